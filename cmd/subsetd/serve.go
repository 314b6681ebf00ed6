package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/server"
)

const serveAbout = `Serves the datasets of --data over HTTP: clients submit jobs of many regions,
poll them and download one NetCDF file per region (API: GET /v1/openapi.json).
A region's box is [W, S, E, N]: west, south, east, north, in degrees.

Each immediate sub-folder of --data is one dataset (its NetCDF/HDF5 files
together, compressed .gz/.bz2/.zst ones too); each such file directly in
--data is a dataset of its own. A dataset's id is the folder name, or the
file name without its extensions (A.NC.GZ is A).

The server indexes --data into <state>/index.db (what each file holds, where
and when: see 'subsetd index') at start-up, in the background (/readyz
answers 503 "indexing" until that first scan ends), then every
--index-interval and on POST /v1/datasets/{id}/reindex. Files are opened by
--index-workers inspector processes, never by the server. A dataset's kind
decides how a job combines its files:

  file        one file directly in --data
  timeseries  a folder whose files share one grid and variables and split a
              time series: a job reads the files overlapping its time range,
              joined along time, one output <region>.nc per region
  granules    a folder of independent files (swaths, passes, different
              grids): a job cuts each file that meets a region and its time
              range, one output <region>/<file stem>.nc per pair; other files
              are not opened

Symbolic links in --data (a "latest" link, folders on other disks, a curated
dataset pointing into an archive) are followed when their target, every
component resolved, lies under --data or one of --allowed-roots; links to
elsewhere, broken links and loops are left out, counted in a warning when
the first scan ends and listed in the dataset documents (refused_links).

The kind is detected by the index and can be set in the configuration file,
with a title and a licence shown by the API:

  "datasets": {"sst": {"kind": "granules", "title": "Daily SST swaths",
                       "license": "CC-BY-4.0"}}

Tasks run in worker processes ('subsetd worker', this binary), at most
--workers at once, one task per process; --warm-workers of them are started
ahead and wait for their task, so a small job does not wait for a process
to start. The queue (River on SQLite) and job files live in --state, so a
restarted server finishes the jobs a stopped or killed one left.

Several nodes: with --database postgres://... the jobs, keys and the queue
(River on PostgreSQL) live in that database, and every node started with
the same --database and the same --state (a shared or parallel filesystem
that every node mounts at the same path) serves the whole API and runs its
own --workers. A node killed or cut off has its running tasks handed to
the others after --rescue-after; periodic work (retention, deadlines,
scans every --index-interval) runs once, enqueued by the elected leader.

Settings come from the defaults, then the --config file (JSON, keys as the
flag names with '_' for '-'), then the flags given on the command line:

  {"data": "/srv/data", "addr": "0.0.0.0:8080", "state": "/var/lib/subsetd",
   "workers": 4, "warm_workers": 4, "task_timeout": "30m", "file_timeout": "15s", "job_deadline": "6h",
   "retention": "168h", "queue_limit": 1000, "max_body_bytes": 1048576,
   "max_regions": 1000, "max_vertices": 200000, "regions_per_task": 16, "max_attempts": 3,
   "memory_budget": 0, "shutdown_grace": "30s", "log_level": "info",
   "regions_dir": "", "index_interval": "10m", "index_workers": 2,
   "allowed_roots": [],
   "min_free_space": "1GiB", "disk_full_delay": "30s",
   "public_url": "", "database": "", "db_pool": 10, "river_pool": 8,
   "rescue_after": "30s",
   "read_header_timeout": "10s", "read_timeout": "1m", "write_timeout": "1m",
   "idle_timeout": "2m", "max_header_bytes": 65536, "datasets": {},
   "auth": "keys", "insecure_no_auth": false, "trusted_proxies": [],
   "metrics_addr": "", "tls_cert": "", "tls_key": "", "cors_origins": [], "link_ttl": "24h", "link_max_ttl": "168h",
   "webhook_allow": [], "webhook_attempts": 8, "webhook_backoff": "10s",
   "quota": {"active_jobs": 0, "regions_per_job": 0, "requests_per_second": 0,
             "burst": 0, "output_bytes_per_day": 0, "max_output_bytes": 0}}

Callers: with --auth keys (the default) every request but /healthz, /readyz,
/v1/openapi.json and the OGC descriptions (/, /conformance, /processes...)
carries "Authorization: Bearer <key>", a key made by
'subsetd keys create --state <the same state dir>'. Each key sees and
manages its own jobs (another key's job is 404); a key with the admin role
sees all (GET /v1/jobs?owner=NAME), reindexes datasets and reads /metrics
(or --metrics-addr serves /metrics alone, without a key, on another port).
--auth none (no keys: everyone is the administrator) is refused on an
address that is not a loopback one unless --insecure-no-auth is given.
"quota" (file only) is what each key may use unless 'subsetd keys' gave it
its own (0: no limit): jobs queued or running at once, regions per job, a
request rate (a token bucket of "burst" requests filled at
requests_per_second), bytes of output files per UTC day. Over a quota the
answer is 429 with Retry-After and the RateLimit-Policy / RateLimit fields.
Key operations and every change of a job's status are written to
<state>/audit.log.

Browsers: --cors-origins lets the pages of those origins call the API
(preflights answered with the path's methods and the fields Authorization,
Content-Type, Idempotency-Key, Range, Last-Event-ID; answers expose Location,
ETag, Repr-Digest, Retry-After, Content-Disposition, RateLimit and
RateLimit-Policy). A request body must be JSON (Content-Type:
application/json, curl --json): another media type is 415.

HTTPS: --tls-cert and --tls-key (PEM files, read again when they change, so
a renewed certificate needs no restart); or plain HTTP behind a reverse
proxy that terminates TLS, named by --trusted-proxies and --public-url.

Signed links: every file of a job document has a signed_href (and POST
/v1/jobs/{id}/links?ttl=2h mints links of the files, the archive and the
checksums for a chosen lifetime, at most --link-max-ttl) that downloads
without a key until it expires: GET and HEAD, with Range. The secret is
<state>/link-secrets.json; 'subsetd keys rotate-link-secret' replaces it,
links signed before still working until they expire.

Disk space: while the state directory has less free space than
--min-free-space, POST /v1/jobs answers 507 (Retry-After) and /readyz 503,
saying how much is free and missing. A task whose outputs meet a full disk
(ENOSPC, EDQUOT) keeps nothing and runs again after --disk-full-delay,
doubled each time, at most --max-attempts runs; then its regions fail with
"no space left on device".

Notifications: a job with "notify": {"url": ..., "events": ["finished",
"region"]} gets signed POSTs (Standard Webhooks: webhook-id,
webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256>" keyed by the
secret in <state>/webhook-secret, created at the first start). Their hosts
must be allowed by --webhook-allow (default: loopback alone), checked when
the job is submitted and at each address a delivery connects to.

On SIGTERM or SIGINT the server stops taking jobs, gives running tasks
--shutdown-grace to finish, kills the rest (they go back to the queue) and
exits. Logs are JSON lines on standard error.`

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "subsetd serve --data DIR [flags]", serveAbout, stderr)
	def := server.Default()
	configFile := fs.String("config", "", "JSON configuration `FILE` (flags given on the command line override it)")
	fs.String("data", "", "data `DIR`: its sub-folders and NetCDF/HDF5 files are the datasets (required)")
	fs.String("addr", def.Addr, "listen `address` host:port")
	fs.String("state", def.State, "state `DIR`: database, job files, lock")
	fs.Int("workers", def.Workers, "worker `processes` running tasks at once (default: the number of CPUs)")
	fs.Int("warm-workers", def.WarmWorkers, "worker `processes` started ahead, each waiting for one task (at most --workers; default: the number of CPUs)")
	fs.Duration("task-timeout", time.Duration(def.TaskTimeout), "kill a task's worker after this `duration`")
	fs.Duration("file-timeout", time.Duration(def.FileTimeout), "kill a worker or inspector stuck this `duration` in one call of the C libraries on a file (the file is then unreadable: \"file X: the C library did not answer within 15 s\")")
	fs.Duration("job-deadline", time.Duration(def.JobDeadline), "fail a job not finished after this `duration` (0: no deadline)")
	fs.Duration("retention", time.Duration(def.Retention), "delete jobs and their files this `duration` after they finish")
	fs.Int("queue-limit", def.QueueLimit, "accepted+running `jobs` beyond which POST /v1/jobs answers 429")
	fs.Int64("max-body-bytes", def.MaxBodyBytes, "largest request body in `bytes` (413 beyond)")
	fs.Int("max-regions", def.MaxRegions, "most `regions` in one job (413 beyond)")
	fs.Int("max-vertices", def.MaxVertices, "most `vertices` in one job: positions of its polygons and points, a named region's included (413 beyond)")
	fs.Int("regions-per-task", def.RegionsPerTask, "most `regions` one worker process cuts in one task (nearby regions are grouped)")
	fs.Int("max-attempts", def.MaxAttempts, "runs of a task whose worker died (signal, out of memory) before its regions fail")
	fs.Int64("memory-budget", def.MemoryBudget, "memory budget of one worker process in `bytes` (0: the engine's default, 256 MiB)")
	fs.Duration("shutdown-grace", time.Duration(def.ShutdownGrace), "on SIGTERM, how long running tasks may finish (`duration`)")
	fs.String("log-level", def.LogLevel, "log `level`: debug, info, warn or error")
	fs.String("regions-dir", "", "a `DIR` of GeoJSON region sets (SET.geojson) usable as {\"ref\": \"SET/NAME\"} besides the built-in ones")
	fs.Duration("index-interval", time.Duration(def.IndexInterval), "scan --data into the index every `duration` after the scan at start-up (0: only at start-up and on POST .../reindex)")
	fs.Int("index-workers", def.IndexWorkers, "inspector `processes` of an index scan")
	fs.String("allowed-roots", "", "`folders` (comma-separated) besides --data that symbolic links of --data may lead into; other links are refused and reported")
	fs.String("min-free-space", def.MinFreeSpace, "free `space` the state directory keeps (1GiB, 500MiB, 2% of its file system, 0 for none): below it POST /v1/jobs answers 507 and /readyz 503")
	fs.Duration("disk-full-delay", time.Duration(def.DiskFullDelay), "wait before a task whose outputs met a full disk runs again (`duration`, doubled at each of --max-attempts)")
	fs.String("database", "", "where jobs, keys and the queue live: empty for SQLite in --state (one server), or a PostgreSQL `URL` (postgres://user:password@host/db) that several nodes share with one --state on a shared filesystem")
	fs.Int("db-pool", def.DBPool, "PostgreSQL: `connections` of the job store's pool")
	fs.Int("river-pool", def.RiverPool, "PostgreSQL: `connections` of the queue's (River's) own pool")
	fs.Duration("rescue-after", time.Duration(def.RescueAfter), "PostgreSQL: a node not heard from for this `duration` has its running tasks handed to the other nodes")
	fs.String("public-url", "", "the `URL` clients reach the server at (a proxy's, with its path): links in documents are absolute under it")
	fs.Duration("read-header-timeout", time.Duration(def.ReadHeaderTimeout), "HTTP: time a client has to send a request's headers (`duration`)")
	fs.Duration("read-timeout", time.Duration(def.ReadTimeout), "HTTP: time a client has to send a whole request, body included (`duration`)")
	fs.Duration("write-timeout", time.Duration(def.WriteTimeout), "HTTP: time to write a response; a download may take longer but is cut when the client reads nothing for this `duration`")
	fs.Duration("idle-timeout", time.Duration(def.IdleTimeout), "HTTP: an idle keep-alive connection is closed after this `duration`")
	fs.Int("max-header-bytes", def.MaxHeaderBytes, "HTTP: largest request headers in `bytes` (431 beyond)")
	fs.String("auth", def.Auth, "who may call: `keys` (API keys made by 'subsetd keys create') or none (every caller is an administrator; loopback addresses only)")
	fs.Bool("insecure-no-auth", false, "allow --auth none on an address that is not a loopback one (something in front authenticates the callers)")
	fs.Duration("link-ttl", time.Duration(def.LinkTTL), "lifetime of the signed download links in job documents, also that of POST /v1/jobs/{id}/links without ?ttl= (`duration`)")
	fs.Duration("link-max-ttl", time.Duration(def.LinkMaxTTL), "the longest lifetime POST /v1/jobs/{id}/links?ttl= gives a link (`duration`)")
	fs.String("metrics-addr", "", "`address` host:port serving /metrics without a key, for a scraper (on --addr /metrics needs an admin key)")
	fs.String("tls-cert", "", "PEM certificate (chain) `FILE`: serve HTTPS, with --tls-key (read again when it changes)")
	fs.String("tls-key", "", "PEM private key `FILE` of --tls-cert")
	fs.String("cors-origins", "", "`origins` (comma-separated, e.g. https://maps.example.org) whose web pages may call the API (CORS); * for any origin, without credentials")
	fs.String("trusted-proxies", "", "`addresses` or CIDR prefixes (comma-separated) of reverse proxies whose X-Forwarded-For names the client, in logs and request rates")
	fs.String("webhook-allow", "", "`hosts`, *.domains, addresses or CIDR prefixes (comma-separated) job notifications may be POSTed to (default: loopback alone); private addresses only when listed")
	fs.Int("webhook-attempts", def.WebhookAttempts, "attempts at delivering one notification before it is marked failed")
	fs.Duration("webhook-backoff", time.Duration(def.WebhookBackoff), "wait before the first retry of a notification (`duration`), doubled at each retry up to an hour")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "subsetd serve: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg := server.Default()
	if *configFile != "" {
		if err := cfg.LoadFile(*configFile); err != nil {
			fmt.Fprintf(stderr, "subsetd serve: %v\n", err)
			return 2
		}
	}
	fs.Visit(func(f *flag.Flag) { applyFlag(&cfg, f) })
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "subsetd serve: %v\n", err)
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "subsetd serve: find own binary: %v\n", err)
		return 1
	}
	cfg.WorkerCommand = []string{exe, "worker"}
	cfg.InspectorCommand = []string{exe, "inspect", "--stdin"}
	// Refs are fixed at submission: workers need no region sets.
	if cfg.RegionsDir != "" {
		if err := regions.LoadDir(cfg.RegionsDir); err != nil {
			fmt.Fprintf(stderr, "subsetd serve: %v\n", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := server.Run(ctx, cfg, server.Logger(cfg.LogLevel), nil); err != nil {
		fmt.Fprintf(stderr, "subsetd serve: %v\n", err)
		return 1
	}
	return 0
}

// applyFlag copies a flag given on the command line into the configuration.
func applyFlag(c *server.Config, f *flag.Flag) {
	g := f.Value.(flag.Getter).Get()
	switch f.Name {
	case "data":
		c.Data = g.(string)
	case "addr":
		c.Addr = g.(string)
	case "regions-dir":
		c.RegionsDir = g.(string)
	case "state":
		c.State = g.(string)
	case "workers":
		c.Workers = g.(int)
	case "warm-workers":
		c.WarmWorkers = g.(int)
	case "task-timeout":
		c.TaskTimeout = server.Duration(g.(time.Duration))
	case "file-timeout":
		c.FileTimeout = server.Duration(g.(time.Duration))
	case "job-deadline":
		c.JobDeadline = server.Duration(g.(time.Duration))
	case "retention":
		c.Retention = server.Duration(g.(time.Duration))
	case "queue-limit":
		c.QueueLimit = g.(int)
	case "max-body-bytes":
		c.MaxBodyBytes = g.(int64)
	case "max-regions":
		c.MaxRegions = g.(int)
	case "max-vertices":
		c.MaxVertices = g.(int)
	case "regions-per-task":
		c.RegionsPerTask = g.(int)
	case "max-attempts":
		c.MaxAttempts = g.(int)
	case "memory-budget":
		c.MemoryBudget = g.(int64)
	case "shutdown-grace":
		c.ShutdownGrace = server.Duration(g.(time.Duration))
	case "log-level":
		c.LogLevel = g.(string)
	case "index-interval":
		c.IndexInterval = server.Duration(g.(time.Duration))
	case "index-workers":
		c.IndexWorkers = g.(int)
	case "min-free-space":
		c.MinFreeSpace = g.(string)
	case "disk-full-delay":
		c.DiskFullDelay = server.Duration(g.(time.Duration))
	case "database":
		c.Database = g.(string)
	case "db-pool":
		c.DBPool = g.(int)
	case "river-pool":
		c.RiverPool = g.(int)
	case "rescue-after":
		c.RescueAfter = server.Duration(g.(time.Duration))
	case "public-url":
		c.PublicURL = g.(string)
	case "read-header-timeout":
		c.ReadHeaderTimeout = server.Duration(g.(time.Duration))
	case "read-timeout":
		c.ReadTimeout = server.Duration(g.(time.Duration))
	case "write-timeout":
		c.WriteTimeout = server.Duration(g.(time.Duration))
	case "idle-timeout":
		c.IdleTimeout = server.Duration(g.(time.Duration))
	case "max-header-bytes":
		c.MaxHeaderBytes = g.(int)
	case "auth":
		c.Auth = g.(string)
	case "insecure-no-auth":
		c.InsecureNoAuth = g.(bool)
	case "allowed-roots":
		c.AllowedRoots = splitList(g.(string))
	case "trusted-proxies":
		c.TrustedProxies = splitList(g.(string))
	case "link-ttl":
		c.LinkTTL = server.Duration(g.(time.Duration))
	case "link-max-ttl":
		c.LinkMaxTTL = server.Duration(g.(time.Duration))
	case "metrics-addr":
		c.MetricsAddr = g.(string)
	case "tls-cert":
		c.TLSCert = g.(string)
	case "tls-key":
		c.TLSKey = g.(string)
	case "cors-origins":
		c.CORSOrigins = splitList(g.(string))
	case "webhook-allow":
		c.WebhookAllow = splitList(g.(string))
	case "webhook-attempts":
		c.WebhookAttempts = g.(int)
	case "webhook-backoff":
		c.WebhookBackoff = server.Duration(g.(time.Duration))
	}
}
