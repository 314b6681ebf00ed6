package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/server"
)

const keysAbout = `Manages the API keys of a server, in its state directory (--state, the
same as 'subsetd serve --state'; a running server sees changes at once, a
revoked key within a few seconds). Nodes on PostgreSQL keep their keys in
the database: give the same --database as theirs.

  subsetd keys create --name NAME [--role user|admin] [--quota Q]
      prints the new key's secret on standard output: the only time it is
      shown (the server keeps its SHA-256). Callers send it as
      "Authorization: Bearer <secret>".
  subsetd keys list [--json]
      every key: name, role, the secret's first characters, quota, dates.
  subsetd keys revoke NAME
      the key of NAME stops working. Its jobs stay; a new key created with
      the same name sees them (that is how a secret is replaced).
  subsetd keys quota NAME --quota Q
      changes a key's own quota.
  subsetd keys rotate-link-secret
      a new secret for signed download links; links signed with the old one
      keep working until they expire (at most the server's link_max_ttl).

A key's name is the identity its jobs belong to: 1 to 64 letters, digits,
'.', '_' or '-'. A user key sees and manages its own jobs; an admin key sees
and manages every job, reindexes datasets and reads /metrics.

Q is NAME=VALUE,... of active_jobs (jobs queued or running at once),
regions_per_job, requests_per_second, burst, output_bytes_per_day and
max_output_bytes (sizes: bytes, or with KiB, MiB, GiB, TiB; the second bounds
one job's output as its dry run estimates it); 0 is no limit, "default" the server's
"quota" setting, which every value not given follows.

Every operation is written to <state>/audit.log (the key's name, never its
secret).`

func runKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprintf(w, "Usage: subsetd keys create|list|revoke|quota|rotate-link-secret [flags]\n\n%s\n\nRun 'subsetd keys <command> --help' for its flags.\n", keysAbout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("keys "+sub, "subsetd keys "+sub+" [flags]", keysAbout, stderr)
	state := fs.String("state", server.Default().State, "the server's state `DIR`")
	database := fs.String("database", "", "the servers' PostgreSQL `URL` (postgres://...) when they run with --database; empty: the SQLite file of --state")
	var name, role, quota *string
	var asJSON *bool
	switch sub {
	case "create":
		name = fs.String("name", "", "the key's `name` (required)")
		role = fs.String("role", string(jobs.RoleUser), "`role`: user or admin")
		quota = fs.String("quota", "", "the key's own `quota`: NAME=VALUE,... (see above)")
	case "list":
		asJSON = fs.Bool("json", false, "print the keys as JSON")
	case "revoke", "rotate-link-secret":
	case "quota":
		quota = fs.String("quota", "", "the `quota` values to change: NAME=VALUE,... (required)")
	default:
		fmt.Fprintf(stderr, "subsetd keys: unknown command %q: use create, list, revoke, quota or rotate-link-secret\n", sub)
		return 2
	}
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	// revoke and quota take the name as their argument.
	if sub == "revoke" || sub == "quota" {
		if fs.NArg() < 1 {
			fmt.Fprintf(stderr, "subsetd keys %s: the key's NAME is needed\n", sub)
			return 2
		}
		n := fs.Arg(0)
		name = &n
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return 2
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "subsetd keys %s: unexpected arguments %q\n", sub, fs.Args())
		return 2
	}
	var over jobs.QuotaOverrides
	var clear []string
	if quota != nil {
		var err error
		if over, clear, err = jobs.ParseQuota(*quota); err != nil {
			fmt.Fprintf(stderr, "subsetd keys %s: %v\n", sub, err)
			return 2
		}
		if sub == "quota" && *quota == "" {
			fmt.Fprintln(stderr, "subsetd keys quota: --quota is needed")
			return 2
		}
		if sub == "create" && len(clear) > 0 {
			fmt.Fprintln(stderr, "subsetd keys create: a new key has the server's defaults already: leave out the =default values")
			return 2
		}
	}
	if sub == "create" && *name == "" {
		fmt.Fprintln(stderr, "subsetd keys create: --name is needed")
		return 2
	}

	if sub == "rotate-link-secret" {
		if err := server.RotateLinkSecret(*state); err != nil {
			fmt.Fprintf(stderr, "subsetd keys rotate-link-secret: %v\n", err)
			return 1
		}
		if audit, f, err := jobs.OpenAudit(*state, nil); err == nil {
			by := "unknown"
			if u, err := user.Current(); err == nil {
				by = u.Username
			}
			audit.Info().Str("event", "link_secret.rotated").Str("by", by).Msg("link secret rotated")
			f.Close()
		}
		fmt.Fprintln(stdout, "a new link secret signs from now on; links signed before work until they expire")
		return 0
	}
	ctx := context.Background()
	store, db, err := server.OpenStoreURL(ctx, *state, *database)
	if err != nil {
		fmt.Fprintf(stderr, "subsetd keys %s: %v\n", sub, err)
		return 1
	}
	defer db.Close()
	audit, auditFile, err := jobs.OpenAudit(*state, nil)
	if err != nil {
		fmt.Fprintf(stderr, "subsetd keys %s: %v\n", sub, err)
		return 1
	}
	defer auditFile.Close()
	by := "unknown"
	if u, err := user.Current(); err == nil {
		by = u.Username
	}

	fail := func(err error) int {
		fmt.Fprintf(stderr, "subsetd keys %s: %v\n", sub, err)
		return 1
	}
	switch sub {
	case "create":
		secret, k, err := store.CreateKey(ctx, *name, jobs.Role(*role), over)
		if err != nil {
			return fail(err)
		}
		jobs.AuditKey(audit, "created", k, by)
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "key %q (%s) created; its secret above is shown this once: keep it\n", k.Name, k.Role)
	case "list":
		keys, err := store.Keys(ctx)
		if err != nil {
			return fail(err)
		}
		printKeys(stdout, keys, *asJSON)
	case "revoke":
		k, err := store.RevokeKey(ctx, *name)
		if err != nil {
			return fail(err)
		}
		jobs.AuditKey(audit, "revoked", k, by)
		fmt.Fprintf(stderr, "key %q (%s...) revoked\n", k.Name, k.Hint)
	case "quota":
		k, err := store.SetQuota(ctx, *name, over, clear)
		if err != nil {
			return fail(err)
		}
		jobs.AuditKey(audit, "quota", k, by)
		fmt.Fprintf(stderr, "key %q: quota %s\n", k.Name, orDefault(k.Quota.String()))
	}
	return 0
}

func orDefault(q string) string {
	if q == "" {
		return "the server's defaults"
	}
	return q
}

// keyDoc is a key as keys list --json prints it.
type keyDoc struct {
	Name    string     `json:"name"`
	Role    jobs.Role  `json:"role"`
	Hint    string     `json:"hint"`
	Quota   string     `json:"quota,omitempty"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

func printKeys(w io.Writer, keys []*jobs.Key, asJSON bool) {
	if asJSON {
		out := []keyDoc{}
		for _, k := range keys {
			d := keyDoc{Name: k.Name, Role: k.Role, Hint: k.Hint, Quota: k.Quota.String(), Created: k.Created}
			if !k.Revoked.IsZero() {
				r := k.Revoked
				d.Revoked = &r
			}
			out = append(out, d)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSECRET\tQUOTA\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if !k.Revoked.IsZero() {
			revoked = k.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s...\t%s\t%s\t%s\n", k.Name, k.Role, k.Hint, orDash(k.Quota.String()), k.Created.Format(time.RFC3339), revoked)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
