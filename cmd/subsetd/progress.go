package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progressLine is one line of progress on a terminal, redrawn in place at
// most every redrawEvery; on anything but a terminal, or with --quiet, it
// writes nothing, so logs and pipes get the results only.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	last  time.Time
	shown int // length of the line on screen
}

const redrawEvery = 100 * time.Millisecond

func newProgressLine(w io.Writer, quiet bool) *progressLine {
	return &progressLine{w: w, on: !quiet && isTerminal(w)}
}

// isTerminal reports whether w is a character device that is not
// /dev/null, and TERM does not say it cannot redraw a line. The standard
// error of the command line's child (supervise.go) is one when its
// parent's is.
func isTerminal(w io.Writer) bool {
	if w == os.Stderr && os.Getenv(childEnv) != "" && os.Getenv(terminalEnv) != "" {
		return os.Getenv("TERM") != "dumb" // the child's, through its parent
	}
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// show draws s; a redraw sooner than redrawEvery after the last is skipped
// unless force.
func (p *progressLine) show(s string, force bool) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(p.last) < redrawEvery {
		return
	}
	p.last = now
	n := utf8.RuneCountInString(s)
	pad := ""
	if p.shown > n {
		pad = strings.Repeat(" ", p.shown-n)
	}
	fmt.Fprintf(p.w, "\r%s%s", s, pad)
	p.shown = n
}

// done erases the line, so what is printed next starts on a clean line.
func (p *progressLine) done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
		p.shown = 0
	}
}

// meter turns counts of work done into a rate and an estimated time left.
type meter struct {
	start time.Time
}

func newMeter() *meter { return &meter{start: time.Now()} }

// rate is done per second since the start ("" before a first second's
// worth of measure).
func (m *meter) rate(done int64) string {
	el := time.Since(m.start).Seconds()
	if el < 0.2 || done <= 0 {
		return ""
	}
	return humanBytes(int64(float64(done)/el)) + "/s"
}

// eta is the time left to reach total at the rate so far ("" when it
// cannot be told).
func (m *meter) eta(done, total int64) string {
	el := time.Since(m.start)
	if done <= 0 || total <= done || el < 200*time.Millisecond {
		return ""
	}
	left := time.Duration(float64(el) * float64(total-done) / float64(done))
	return "ETA " + humanDuration(left)
}

// humanBytes writes a size with binary prefixes: 812 B, 27.4 KiB, 3.1 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	prefix := "KMGTPE"[exp : exp+1]
	if v >= 100 {
		return fmt.Sprintf("%.0f %siB", v, prefix)
	}
	return fmt.Sprintf("%.1f %siB", v, prefix)
}

// humanDuration rounds a duration for a person: 4s, 1m05s, 2h03m.
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// joinParts joins the non-empty parts of a progress line.
func joinParts(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}
