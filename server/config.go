package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/queue"
)

// Duration is a time.Duration written as "30s", "15m", "168h" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s", "1h30m" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration must be a string like \"30m\": %s", b)
		}
		*d = Duration(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Config are the settings of subsetd serve. The JSON names are those of the
// configuration file; flags have the same names with '-' for '_'.
type Config struct {
	Data           string   `json:"data"`             // data directory (required)
	Addr           string   `json:"addr"`             // listen address
	State          string   `json:"state"`            // state directory: database, job files
	Workers        int      `json:"workers"`          // worker processes running tasks at once
	WarmWorkers    int      `json:"warm_workers"`     // worker processes started ahead, waiting for a task (at most workers)
	TaskTimeout    Duration `json:"task_timeout"`     // a task's worker is killed after this long
	FileTimeout    Duration `json:"file_timeout"`     // a worker or inspector stuck this long in one C library call on a file is killed: the file is unreadable
	JobDeadline    Duration `json:"job_deadline"`     // a job not finished after this long fails; 0 for none
	Retention      Duration `json:"retention"`        // jobs and files are deleted this long after they finish
	QueueLimit     int      `json:"queue_limit"`      // accepted+running jobs beyond which POST /v1/jobs answers 429
	MaxBodyBytes   int64    `json:"max_body_bytes"`   // largest request body
	MaxRegions     int      `json:"max_regions"`      // most regions in one job
	MaxVertices    int      `json:"max_vertices"`     // most vertices (positions of polygons and points) in one job
	RegionsPerTask int      `json:"regions_per_task"` // most regions a worker process cuts in one task
	MaxAttempts    int      `json:"max_attempts"`     // runs of a task whose worker died (signal, OOM)
	MemoryBudget   int64    `json:"memory_budget"`    // bytes of values one worker holds at once; 0 for the engine's default
	ShutdownGrace  Duration `json:"shutdown_grace"`   // on SIGTERM, how long running tasks may finish
	LogLevel       string   `json:"log_level"`        // debug, info, warn, error
	RegionsDir     string   `json:"regions_dir"`      // folder of GeoJSON region sets usable as {"ref": "<set>/<name>"}
	IndexInterval  Duration `json:"index_interval"`   // time between scans of the data directory into the index; 0: only at start-up and on request
	IndexWorkers   int      `json:"index_workers"`    // inspector processes of a scan
	// AllowedRoots are folders besides Data that symbolic links of the
	// data directory may lead into; links elsewhere are refused and
	// reported (subsetd index, the dataset documents, the log).
	AllowedRoots []string `json:"allowed_roots"`
	// MinFreeSpace is the free space the state directory keeps ("1GiB",
	// "2%" of its file system, "0" for none): below it POST /v1/jobs
	// answers 507 and /readyz 503, saying how much is missing.
	MinFreeSpace string `json:"min_free_space"`
	// DiskFullDelay is the wait before a task whose outputs met a full
	// disk runs again, doubled at each of max_attempts.
	DiskFullDelay Duration `json:"disk_full_delay"`
	// Database is where jobs, keys and River's queue live: empty for the
	// SQLite file of the state directory (one server), or a postgres://
	// URL that several nodes share (with one shared state directory).
	Database    string   `json:"database"`
	DBPool      int      `json:"db_pool"`      // PostgreSQL: connections of the job store's pool
	RiverPool   int      `json:"river_pool"`   // PostgreSQL: connections of River's own pool
	RescueAfter Duration `json:"rescue_after"` // PostgreSQL: a node unseen this long has its running tasks handed to others
	// PublicURL is the address clients reach the server at (a proxy's,
	// with its path prefix): links in documents are absolute under it.
	// Empty: links are paths.
	PublicURL string `json:"public_url"`
	// HTTP: how long a client may take to send a request's headers, the
	// whole request (body included), to read a response (downloads: between
	// two writes), how long an idle connection is kept, and the largest
	// request headers.
	ReadHeaderTimeout Duration `json:"read_header_timeout"`
	ReadTimeout       Duration `json:"read_timeout"`
	WriteTimeout      Duration `json:"write_timeout"`
	IdleTimeout       Duration `json:"idle_timeout"`
	MaxHeaderBytes    int      `json:"max_header_bytes"`
	// Datasets are settings per dataset id: the kind (instead of the
	// detected one), a title and a licence. Configuration file only.
	Datasets map[string]catalog.Meta `json:"datasets"`

	// Serving others (access.go): who may call, what each key may use.
	Auth           string     `json:"auth"`             // keys (API keys; the default) or none (everyone is one operator: loopback only)
	InsecureNoAuth bool       `json:"insecure_no_auth"` // allow auth none on an address that is not a loopback one
	Quota          jobs.Quota `json:"quota"`            // what each key may use unless its own quota says otherwise
	TrustedProxies []string   `json:"trusted_proxies"`  // addresses or CIDR prefixes whose X-Forwarded-For names the client
	LinkTTL        Duration   `json:"link_ttl"`         // lifetime of the signed links of job documents, and the default of POST /v1/jobs/{id}/links
	LinkMaxTTL     Duration   `json:"link_max_ttl"`     // the longest lifetime POST /v1/jobs/{id}/links gives; a rotated secret verifies this long
	MetricsAddr    string     `json:"metrics_addr"`     // host:port serving /metrics without a key (on addr it needs an admin key)
	TLSCert        string     `json:"tls_cert"`         // PEM certificate chain: serve HTTPS (with tls_key)
	TLSKey         string     `json:"tls_key"`          // PEM private key of tls_cert
	CORSOrigins    []string   `json:"cors_origins"`     // origins (https://maps.example.org) whose pages may call the API; ["*"]: any, without credentials

	// Notifications: hosts, *.domains, addresses and CIDR prefixes they
	// may go to (empty: loopback alone), attempts per notification and
	// the wait before the first retry (doubled at each).
	WebhookAllow    []string `json:"webhook_allow"`
	WebhookAttempts int      `json:"webhook_attempts"`
	WebhookBackoff  Duration `json:"webhook_backoff"`

	// WorkerCommand is the argv that starts a worker process (the binary's
	// own path and "worker"); set by the command, not the file.
	WorkerCommand []string `json:"-"`
	// InspectorCommand is the argv of the index's inspector processes (the
	// binary's own path and "inspect --stdin"); nil: this executable.
	InspectorCommand []string `json:"-"`
}

// Default returns the default configuration.
func Default() Config {
	return Config{
		Addr:           "127.0.0.1:8080",
		State:          "./var",
		Workers:        runtime.NumCPU(),
		WarmWorkers:    runtime.NumCPU(),
		TaskTimeout:    Duration(30 * time.Minute),
		FileTimeout:    Duration(15 * time.Second),
		JobDeadline:    Duration(6 * time.Hour),
		Retention:      Duration(7 * 24 * time.Hour),
		QueueLimit:     1000,
		MaxBodyBytes:   1 << 20,
		MaxRegions:     1000,
		MaxVertices:    200000,
		RegionsPerTask: 16,
		MaxAttempts:    3,
		ShutdownGrace:  Duration(30 * time.Second),
		LogLevel:       "info",
		IndexInterval:  Duration(10 * time.Minute),
		IndexWorkers:   2,
		MinFreeSpace:   "1GiB",
		DiskFullDelay:  Duration(30 * time.Second),
		DBPool:         10,
		RiverPool:      8,
		RescueAfter:    Duration(30 * time.Second),

		ReadHeaderTimeout: Duration(10 * time.Second),
		ReadTimeout:       Duration(time.Minute),
		WriteTimeout:      Duration(time.Minute),
		IdleTimeout:       Duration(2 * time.Minute),
		MaxHeaderBytes:    64 << 10,
		Auth:              "keys",
		LinkTTL:           Duration(api.DefaultLinkTTL),
		LinkMaxTTL:        Duration(api.DefaultLinkMaxTTL),
		WebhookAttempts:   8,
		WebhookBackoff:    Duration(10 * time.Second),
	}
}

// LoadFile reads a JSON configuration file over c: settings it names
// replace c's, others stay. Unknown settings are an error.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// Validate checks the settings.
func (c *Config) Validate() error {
	var bad []string
	if c.Data == "" {
		bad = append(bad, "data: a data directory is needed (--data DIR)")
	}
	if c.Addr == "" {
		bad = append(bad, "addr: empty")
	}
	if c.State == "" {
		bad = append(bad, "state: empty")
	}
	if c.Workers < 1 {
		bad = append(bad, fmt.Sprintf("workers: %d, need at least 1", c.Workers))
	}
	if c.WarmWorkers < 0 {
		bad = append(bad, fmt.Sprintf("warm_workers: %d, must not be negative", c.WarmWorkers))
	}
	for name, d := range map[string]Duration{"task_timeout": c.TaskTimeout, "file_timeout": c.FileTimeout, "retention": c.Retention,
		"read_header_timeout": c.ReadHeaderTimeout, "read_timeout": c.ReadTimeout, "write_timeout": c.WriteTimeout, "idle_timeout": c.IdleTimeout} {
		if d <= 0 {
			bad = append(bad, name+": must be positive")
		}
	}
	if c.JobDeadline < 0 || c.ShutdownGrace < 0 || c.IndexInterval < 0 {
		bad = append(bad, "job_deadline, shutdown_grace and index_interval must not be negative")
	}
	if _, err := queue.ParseReserve(c.MinFreeSpace); err != nil {
		bad = append(bad, "min_free_space: "+err.Error())
	}
	if c.DiskFullDelay <= 0 {
		bad = append(bad, "disk_full_delay: must be positive")
	}
	if c.IndexWorkers < 1 {
		bad = append(bad, fmt.Sprintf("index_workers: %d, need at least 1", c.IndexWorkers))
	}
	ids := make([]string, 0, len(c.Datasets))
	for id := range c.Datasets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := c.Datasets[id].Validate(id); err != nil {
			bad = append(bad, err.Error())
		}
	}
	for name, v := range map[string]int64{"queue_limit": int64(c.QueueLimit), "max_body_bytes": c.MaxBodyBytes, "max_regions": int64(c.MaxRegions), "max_vertices": int64(c.MaxVertices),
		"regions_per_task": int64(c.RegionsPerTask), "max_attempts": int64(c.MaxAttempts), "max_header_bytes": int64(c.MaxHeaderBytes)} {
		if v < 1 {
			bad = append(bad, name+": must be at least 1")
		}
	}
	if err := checkDatabase(c.Database); err != nil {
		bad = append(bad, "database: "+err.Error())
	}
	if pgsql.IsURL(c.Database) && (c.DBPool < 2 || c.RiverPool < 2 || c.RescueAfter <= 0) {
		bad = append(bad, "db_pool and river_pool must be at least 2, rescue_after positive")
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		bad = append(bad, "public_url: "+err.Error())
	}
	bad = append(bad, c.validateAccess()...)
	if _, err := webhook.NewPolicy(c.WebhookAllow); err != nil {
		bad = append(bad, err.Error())
	}
	if c.WebhookAttempts < 1 || c.WebhookAttempts > 25 {
		bad = append(bad, fmt.Sprintf("webhook_attempts: %d, use 1 to 25", c.WebhookAttempts))
	}
	if c.WebhookBackoff <= 0 {
		bad = append(bad, "webhook_backoff: must be positive")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad = append(bad, fmt.Sprintf("log_level: %q, use debug, info, warn or error", c.LogLevel))
	}
	if len(bad) > 0 {
		return fmt.Errorf("config: %s", strings.Join(bad, "; "))
	}
	return nil
}

// checkPublicURL accepts "" or an absolute http(s) URL without query or
// fragment.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q: a base URL has no user, query or fragment", s)
	}
	return nil
}
