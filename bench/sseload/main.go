// Command sseload supports bench/push.sh: it holds many Server-Sent Events
// streams of subsetd jobs open at once and says how they fared.
//
//	sseload -url http://127.0.0.1:8080 -jobs ID1,ID2 -n 500 -hold 60s
//
// The streams are spread over the jobs in turn. Once every stream has
// its first event it prints "open N" on standard output; it then holds
// them until -hold passes or standard input closes, and prints the streams
// still open, the events and heartbeats received, and the streams that
// ended or failed early.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the server")
	ids := flag.String("jobs", "", "job ids (comma-separated) to follow")
	n := flag.Int("n", 500, "streams")
	hold := flag.Duration("hold", time.Minute, "how long to hold the streams")
	key := flag.String("key", "", "an API key (Authorization: Bearer)")
	flag.Parse()
	jobs := strings.Split(*ids, ",")
	if *ids == "" {
		fmt.Fprintln(os.Stderr, "sseload: -jobs is needed")
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	var stopOnce sync.Once
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stopOnce.Do(func() { close(stop) }) }()
	time.AfterFunc(*hold, func() { stopOnce.Do(func() { close(stop) }) })
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: *n, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var open, events, beats, ended, failed atomic.Int64
	var first sync.WaitGroup
	first.Add(*n)
	var done sync.WaitGroup
	for i := range *n {
		done.Add(1)
		go func() {
			defer done.Done()
			once := sync.OnceFunc(first.Done)
			defer once()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *base+"/v1/jobs/"+jobs[i%len(jobs)]+"/events", nil)
			req.Header.Set("Accept", "text/event-stream")
			if *key != "" {
				req.Header.Set("Authorization", "Bearer "+*key)
			}
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
				if resp != nil {
					resp.Body.Close()
				}
				return
			}
			defer resp.Body.Close()
			open.Add(1)
			defer open.Add(-1)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "event:"):
					events.Add(1)
					once()
				case strings.HasPrefix(line, ":"):
					beats.Add(1)
				}
			}
			if ctx.Err() == nil {
				ended.Add(1)
			}
		}()
	}
	first.Wait()
	fmt.Printf("open %d\n", open.Load())
	os.Stdout.Sync()
	<-stop
	still := open.Load() // before the streams are let go
	cancel()
	done.Wait()
	fmt.Printf("held %d of %d streams to the end; %d events, %d heartbeats; %d ended early, %d failed\n",
		still, *n, events.Load(), beats.Load(), ended.Load(), failed.Load())
}
