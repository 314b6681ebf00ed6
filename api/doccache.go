package api

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/subsetd/subsetd/jobs"
)

// The document of a final job never changes, and polling clients and
// dashboards ask for the same ones again and again: their JSON is kept,
// keyed by the *jobs.Job the backend returns (its store returns the same
// value for a final job until the job is deleted, so a deleted job's entry
// is never found again). The cache is emptied when it grows past a bound,
// and every hour when the documents carry signed links (links.go: their
// expiry moves on by the hour).

const docCacheMax = 20000

type docKey struct {
	j       *jobs.Job
	regions bool
	expires int64 // of the signed links it holds
}

type docCache struct {
	mu      sync.Mutex
	docs    map[docKey]json.RawMessage
	expires int64 // of the signed links of the documents held
}

// doc is the compact JSON of jobDoc(j, regions, retention, h.u), cached for
// final jobs.
func (h *handler) doc(j *jobs.Job, regions bool) json.RawMessage {
	final := j.Status.Final()
	k := docKey{j: j, regions: regions}
	if h.u.links != nil {
		k.expires = h.u.links.docExpiry()
	}
	if final {
		h.docs.mu.Lock()
		b, ok := h.docs.docs[k]
		h.docs.mu.Unlock()
		if ok {
			return b
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(jobDoc(j, regions, h.opt.Retention, h.u))
	b := json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
	if final {
		h.docs.mu.Lock()
		if h.docs.docs == nil || len(h.docs.docs) >= docCacheMax || h.docs.expires != k.expires {
			// Links of another hour: the documents before it are stale.
			h.docs.docs, h.docs.expires = map[docKey]json.RawMessage{}, k.expires
		}
		h.docs.docs[k] = b
		h.docs.mu.Unlock()
	}
	return b
}
