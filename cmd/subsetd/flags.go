package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// newFlagSet makes the flag set of a command; its --help prints the usage
// line, the text about the command and the flags (printFlags).
func newFlagSet(name, usageLine, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", usageLine, about)
		printFlags(w, fs)
	}
	return fs
}

// printFlags lists the flags as the README writes them, with two dashes:
//
//	--name value
//	      what it does (default x)
//
// A default is added unless it is the zero value or the text already says
// it.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		value, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if value != "" {
			line += " " + value
		}
		if !strings.Contains(usage, "default") {
			switch f.DefValue {
			case "", "0", "false":
			default:
				if g, ok := f.Value.(flag.Getter); ok {
					if _, isString := g.Get().(string); isString {
						usage += fmt.Sprintf(" (default %q)", f.DefValue)
						break
					}
				}
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		fmt.Fprintf(w, "%s\n%s", line, wrap(usage, "      ", 80))
	})
}

// wrap breaks text into lines of at most width characters (words longer
// than that stay whole), each starting with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n") {
		n := 0
		for i, word := range strings.Fields(para) {
			if i > 0 && n+1+len(word) > width {
				b.WriteString("\n")
				n = 0
			}
			if n == 0 {
				b.WriteString(indent)
				n = len(indent)
			} else {
				b.WriteString(" ")
				n++
			}
			b.WriteString(word)
			n += len(word)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// parseFlags parses args; it returns an exit code and whether to stop.
// --help prints the command's usage on stdout; a bad flag is one line and
// a pointer to --help on stderr.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	usage := fs.Usage
	fs.Usage = func() {} // printed below, once, on the right stream
	stderr := fs.Output()
	fs.SetOutput(io.Discard) // the error is printed below, in our words
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		usage()
		return 0, true
	}
	if err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag --" + strings.TrimLeft(name, "-")
		} else {
			msg = strings.Replace(msg, " flag -", " flag --", 1)
		}
		usageError(stderr, fs.Name(), "%s", msg)
		return 2, true
	}
	return 0, false
}

// usageError prints a usage error of a command: one line, and where to
// read more.
func usageError(stderr io.Writer, cmd, format string, args ...any) {
	fmt.Fprintf(stderr, "subsetd %s: %s\nRun 'subsetd %s --help' for its flags.\n", cmd, fmt.Sprintf(format, args...), cmd)
}
