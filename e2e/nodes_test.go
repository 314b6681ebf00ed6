package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
)

// childWorkers lists the worker processes whose parent is pid.
func childWorkers(t *testing.T, pid int) []int {
	var out []int
	for _, w := range workers(t) {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(w), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		_, rest, _ := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, w)
		}
	}
	return out
}

// Three nodes on one PostgreSQL and one state directory: 30 jobs submitted
// to them in turn, node 2 killed with kill -9 while it runs tasks. Every
// job succeeds, each file equals ncks's cut, each task's files are placed
// once (by one attempt), no temporary file and no worker process is left,
// and every node lists the same jobs.
func TestThreeNodesKill9(t *testing.T) {
	url := pgtest.Database(t)
	data, state := dataDir(t), t.TempDir()
	flags := []string{"--database", url, "--rescue-after", "3s", "--warm-workers", "0"}
	env := []string{"SUBSETD_TEST_TASK_DELAY=300ms"}
	nodes := make([]*server, 3)
	for i := range nodes {
		nodes[i] = start(t, data, state, env, flags...)
	}
	boxes := fourteen()
	type submitted struct {
		id    string
		boxes []box
	}
	var js []submitted
	submit := func(k int, s *server) {
		bs := []box{boxes[k%14], boxes[(k+5)%14]}
		j := s.submit(jobBody("global", []string{fmt.Sprintf("a%02d", k), fmt.Sprintf("b%02d", k)}, bs, `, "variables": ["sst"]`))
		js = append(js, submitted{j.ID, bs})
	}
	for k := range 15 {
		submit(k, nodes[k%3])
	}
	// Node 2 is killed while its workers run tasks.
	n2 := nodes[1]
	deadline := time.Now().Add(30 * time.Second)
	for len(childWorkers(t, n2.cmd.Process.Pid)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("node 2 never ran a task")
		}
		time.Sleep(10 * time.Millisecond)
	}
	pid2 := n2.cmd.Process.Pid
	n2.kill()
	killedAt := time.Now()
	// Its workers die with it (no orphan).
	for len(childWorkers(t, pid2)) > 0 {
		if time.Since(killedAt) > 3*time.Second {
			t.Fatalf("workers of the killed node still run: %v", childWorkers(t, pid2))
		}
		time.Sleep(10 * time.Millisecond)
	}
	live := []*server{nodes[0], nodes[2]}
	for k := 15; k < 30; k++ {
		submit(k, live[k%2])
	}
	for i, sj := range js {
		j, _ := live[i%2].wait(sj.id, 120*time.Second, final)
		checkFiles(t, live[(i+1)%2], j, sj.boxes)
	}
	// Each task finished once: one "task successful" per task in all the
	// logs together, and the killed node's tasks were handed over.
	finished := map[string]int{}
	rescued := 0
	for _, n := range nodes {
		b, _ := os.ReadFile(n.log)
		for _, line := range strings.Split(string(b), "\n") {
			var l struct {
				Msg  string `json:"message"`
				Job  string `json:"job_id"`
				Task int    `json:"task_id"`
			}
			if json.Unmarshal([]byte(line), &l) != nil {
				continue
			}
			switch l.Msg {
			case "task successful":
				finished[fmt.Sprintf("%s/%d", l.Job, l.Task)]++
			case "task of a stopped node put back in the queue":
				rescued++
			}
		}
	}
	for task, n := range finished {
		if n != 1 {
			t.Errorf("task %s finished %d times", task, n)
		}
	}
	if rescued == 0 {
		t.Error("no task of the killed node was handed to another node")
	}
	// Each job's folder holds its two files and the manifest, nothing else.
	for _, sj := range js {
		ents, err := os.ReadDir(filepath.Join(state, "jobs", sj.id, "files"))
		if err != nil || len(ents) != 2 {
			t.Fatalf("job %s: files %v %v", sj.id, ents, err)
		}
		if _, err := os.Stat(filepath.Join(state, "jobs", sj.id, "manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	if tmp := tmpFiles(state); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	// The index is in PostgreSQL too, not in a shared SQLite file.
	for _, f := range []string{"index.db", "subsetd.db"} {
		if _, err := os.Stat(filepath.Join(state, f)); !os.IsNotExist(err) {
			t.Fatalf("%s in the shared state directory: %v", f, err)
		}
	}
	// Node 2 comes back on the same database and directory: no reset, and
	// every node lists the same jobs.
	nodes[1] = start(t, data, state, nil, flags...)
	var lists [][]string
	for _, n := range nodes {
		var l api.JobList
		n.do("GET", "/v1/jobs?limit=100", "").json(t, &l)
		var ids []string
		for _, j := range l.Jobs {
			ids = append(ids, j.ID+":"+string(j.Status))
		}
		lists = append(lists, ids)
	}
	if len(lists[0]) != 30 || !slices.Equal(lists[0], lists[1]) || !slices.Equal(lists[0], lists[2]) {
		t.Fatalf("listings differ or miss jobs:\n%v\n%v\n%v", lists[0], lists[1], lists[2])
	}
	// SIGTERM drains one node: the others go on serving.
	nodes[0].cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-nodes[0].done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	j := nodes[2].submit(jobBody("global", []string{"last"}, boxes[:1], ""))
	got, _ := nodes[1].wait(j.ID, 60*time.Second, final)
	checkFiles(t, nodes[1], got, boxes[:1])
	nodes[1].kill()
	nodes[2].kill()
	waitNoWorkers(t, 3*time.Second)
	// The command line indexes into the same database: the nodes indexed
	// the file already.
	out, err := exec.Command(binary, "index", "--data", data, "--database", url, "--quiet").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "into postgres") || !strings.Contains(string(out), "1 files: 0 new, 0 changed, 0 deleted, 1 unchanged") {
		t.Fatalf("subsetd index --database: %v\n%s", err, out)
	}
}
