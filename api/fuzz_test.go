package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// FuzzJobRequest feeds job bodies through what POST /v1/jobs does before
// the backend: the strict decoder, the limits, the regions' preparation
// and the spec's validation. Nothing panics; every refusal is an
// Invalid or TooLarge error with a message; a body accepted once is
// accepted again as the job shows it (its request re-encoded), to the
// same spec; each body is decided within a second.
func FuzzJobRequest(f *testing.F) {
	for _, s := range []string{
		goodJob, fullJob,
		`{"dataset":"sst","regions":[{"name":"a","bbox":[0,0,1,1]}]}`,
		`{"DATASET":"sst","regions":[{"name":"a","bbox":[0,0,1,1]}]}`,
		`{"dataset":"sst","dataset":"x","regions":[{"name":"a","bbox":[0,0,1,1]}]}`,
		`{"dataset":"sst","regions":[{"name":"-rf","bbox":[0,0,1,1]}]}`,
		`{"dataset":"sst","regions":[{"name":"g","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6]]]}}]}`,
		`{"dataset":"sst","regions":[{"name":"g","geometry":{"type":"MultiPolygon","coordinates":[[[[170,0],[190,0],[190,9],[170,0]]],[[[-10,-10],[10,-10],[0,10],[-10,-10]],[[-1,-1],[1,-1],[0,1],[-1,-1]]]]}}]}`,
		`{"dataset":"sst","regions":[{"name":"p","geometry":{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[0,0],[1,1]]}}}],"stride":{"time":2},"vertical":{"min":1}}`,
		`{"dataset":"sst","regions":[{"name":"a","bbox":[0,0,1,1]}]} x`,
		`{"dataset":"sst","regions":[{"name":"a","bbox":[0,0,1,1]}],"statistics":{"ops":["mean"],"variables":["sst"]}}`,
	} {
		f.Add([]byte(s))
	}
	lim := jobs.JobLimits(50, 5000, jobs.Submitter{})
	f.Fuzz(func(t *testing.T, body []byte) {
		start := time.Now()
		var req JobRequest
		err := DecodeStrict(body, &req)
		var spec *jobs.Spec
		if err == nil {
			spec, err = req.SpecWithin(lim)
		}
		if err == nil {
			err = spec.Validate()
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("%d bytes took %v", len(body), took)
		}
		if err != nil {
			if c := errs.CodeOf(err); c != errs.Invalid && c != errs.TooLarge || err.Error() == "" {
				t.Fatalf("%q: %v (%s)", body, err, c)
			}
			if f := errs.FieldOf(err); f != "" && strings.HasPrefix(err.Error(), f+": "+f+": ") {
				t.Fatalf("field said twice: %v", err)
			}
			return
		}
		shown, err := json.Marshal(jobRequest(spec))
		if err != nil {
			t.Fatal(err)
		}
		var again JobRequest
		if err := DecodeStrict(shown, &again); err != nil {
			t.Fatalf("accepted %q but not as shown, %s: %v", body, shown, err)
		}
		spec2, err := again.SpecWithin(lim)
		if err != nil {
			t.Fatalf("accepted %q but not as shown, %s: %v", body, shown, err)
		}
		if spec2.Hash() != spec.Hash() {
			t.Fatalf("%q: shown as %s, a different job", body, shown)
		}
	})
}
