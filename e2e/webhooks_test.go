package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// A receiver on 127.0.0.1 gets the job's notifications from the real
// server, signed with the secret of its state directory (checked here with
// crypto/hmac from the Standard Webhooks text), the first answered 500 and
// delivered again; a host outside webhook_allow is refused at submission.
func TestWebhooks(t *testing.T) {
	type msg struct {
		hdr  http.Header
		body []byte
	}
	var mu sync.Mutex
	var got []msg
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, msg{r.Header.Clone(), b})
		n := len(got)
		mu.Unlock()
		if n == 1 {
			http.Error(w, "not now", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	state := t.TempDir()
	s := start(t, dataDir(t), state, nil, "--webhook-backoff", "200ms", "--webhook-attempts", "3")

	r := s.do("POST", "/v1/jobs", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}], "notify": {"url": "https://hooks.example.org/x"}}`)
	if r.StatusCode != 400 || !strings.Contains(string(r.body), `"field":"notify.url"`) {
		t.Fatalf("refused host: %d %s", r.StatusCode, r.body)
	}

	j := s.submit(`{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}, {"name": "b", "bbox": [100, 0, 110, 10]}],
		"variables": ["sst"], "notify": {"url": "` + recv.URL + `/hook", "events": ["region", "finished"]}}`)
	j, _ = s.wait(j.ID, time.Minute, func(j job) bool {
		if !final(j) || len(j.Deliveries) != 3 {
			return false
		}
		for _, d := range j.Deliveries {
			if d.Status == "pending" {
				return false
			}
		}
		return true
	})
	text, err := os.ReadFile(filepath.Join(state, "webhook-secret"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(text)), "whsec_"))
	if err != nil || len(key) < 24 {
		t.Fatalf("secret %q: %v", text, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	byID := map[string][]msg{}
	for _, m := range got {
		id, ts := m.hdr.Get("webhook-id"), m.hdr.Get("webhook-timestamp")
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + string(m.body)))
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); m.hdr.Get("webhook-signature") != want {
			t.Fatalf("signature of %s: %q, want %q", id, m.hdr.Get("webhook-signature"), want)
		}
		byID[id] = append(byID[id], m)
	}
	for _, d := range j.Deliveries {
		ms := byID[d.ID]
		if d.Status != "delivered" || len(ms) != len(d.Attempts) || d.Attempts[len(d.Attempts)-1].Status != 200 {
			t.Fatalf("delivery %+v, %d requests", d, len(ms))
		}
		if string(ms[0].body) != string(ms[len(ms)-1].body) {
			t.Fatalf("the retry of %s has another body", d.ID)
		}
		var ev struct {
			Type string
			Data json.RawMessage
		}
		if err := json.Unmarshal(ms[0].body, &ev); err != nil || ev.Type != "job."+d.Event {
			t.Fatalf("%s: %s", d.ID, ms[0].body)
		}
		if d.Event == "region" {
			var re api.RegionEvent
			json.Unmarshal(ev.Data, &re)
			f := re.Files[0]
			sum := sha256.Sum256(s.download(f.Href))
			if re.Index != d.Region || re.Name != j.Regions[d.Region].Name || hex.EncodeToString(sum[:]) != f.Sha256 {
				t.Fatalf("region %d event %s", d.Region, ev.Data)
			}
		}
	}
	if n := len(j.Deliveries[0].Attempts) + len(j.Deliveries[1].Attempts) + len(j.Deliveries[2].Attempts); n != 4 {
		t.Fatalf("%d attempts recorded: %+v", n, j.Deliveries)
	}
}
