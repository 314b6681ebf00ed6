package index

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/proc"
)

// An inspector is one `subsetd inspect --stdin` process: it reads paths on
// its standard input and answers each with one JSON line (a Record). It is
// killed when it takes longer than the timeout on a file, and replaced when
// it dies; after maxServed files it is replaced too, so that what the C
// libraries leak does not pile up.
type inspector struct {
	p      *proc.Process
	stdin  *os.File
	lines  chan []byte   // stdout lines; closed at EOF
	quit   chan struct{} // closed when nobody listens to lines any more
	once   sync.Once
	served int
}

const maxServed = 1000

// errNotSent: the process was gone before it got the path; the file is not
// to blame.
var errNotSent = errors.New("inspector gone before the file was sent")

func startInspector(argv []string, callLimit time.Duration) (*inspector, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	in := &inspector{stdin: inW, lines: make(chan []byte), quit: make(chan struct{})}
	in.p, err = proc.Start(argv, proc.Options{Stdin: inR, Stdout: outW, CallLimit: callLimit})
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start inspector %q: %w", strings.Join(argv, " "), err)
	}
	go func() {
		defer close(in.lines)
		defer outR.Close()
		r := bufio.NewReaderSize(outR, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				select {
				case in.lines <- line:
				case <-in.quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return in, nil
}

// inspect asks for one file. An error means no answer: the process died
// (errNotSent when it was gone before), timed out, or ctx ended; the
// caller then kills and replaces it.
func (in *inspector) inspect(ctx context.Context, path string, timeout time.Duration) (Record, error) {
	select {
	case <-in.p.Done():
		return Record{}, errNotSent
	default:
	}
	if _, err := io.WriteString(in.stdin, path+"\n"); err != nil {
		return Record{}, errNotSent
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-in.lines:
			if !ok {
				select {
				case <-in.p.Done():
				case <-time.After(5 * time.Second):
					in.kill()
				}
				return Record{}, in.crash()
			}
			var rec Record
			// Anything else on stdout (a C library talking) is skipped.
			if json.Unmarshal(line, &rec) != nil || rec.Path != path {
				continue
			}
			in.served++
			return rec, nil
		case <-timer.C:
			return Record{}, fmt.Errorf("inspection timed out after %s", timeout)
		case <-ctx.Done():
			return Record{}, context.Cause(ctx)
		}
	}
}

// fileFault is an inspector that a C library hung or crashed in, on the
// file it was given: the file's fault, said in the engine's words.
type fileFault struct{ reason string }

func (f *fileFault) Error() string { return f.reason }

// crash describes how the process ended.
func (in *inspector) crash() error {
	var se *proc.StallError
	if err := in.p.Err(); errors.As(err, &se) {
		return &fileFault{engine.HungReason(se.Limit)}
	}
	if _, inCall := in.p.LastCall(); inCall {
		if sig := proc.CrashSignal(in.p.Err(), in.p.Stderr()); sig != "" {
			return &fileFault{engine.CrashReason(sig)}
		}
	}
	msg := "it exited without answering"
	if err := in.p.Err(); err != nil {
		msg = err.Error()
	}
	if s := in.cause(); s != "" {
		msg += " (" + s + ")"
	}
	return errors.New("inspector crashed on this file: " + msg)
}

// cause is the line of standard error that best says why the process died.
func (in *inspector) cause() string { return proc.Cause(in.p.Stderr()) }

// kill kills the process group and waits for the process.
func (in *inspector) kill() {
	in.p.Kill()
	<-in.p.Done()
	in.release()
}

// close ends the process: end of input, then a kill if it lingers.
func (in *inspector) close() {
	in.stdin.Close()
	select {
	case <-in.p.Done():
		in.release()
	case <-time.After(5 * time.Second):
		in.kill()
	}
}

// release frees the pipes and the reader of a process that has exited.
func (in *inspector) release() {
	in.once.Do(func() {
		close(in.quit)
		in.stdin.Close()
	})
}
