package queue

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/subsetd/subsetd/jobs"
)

// Metrics are the queue's Prometheus metrics.
type Metrics struct {
	TaskDuration *prometheus.HistogramVec
	BytesRead    prometheus.Counter
	BytesWritten prometheus.Counter
	FilesOpened  prometheus.Counter
	TaskRetries  prometheus.Counter
}

// NewMetrics registers the metrics in reg; jobs by status and queue depth
// are read from the store at each scrape.
func NewMetrics(reg prometheus.Registerer, store *jobs.Store) *Metrics {
	m := &Metrics{
		TaskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "subsetd_task_duration_seconds",
			Help:    "Run time of tasks in worker processes, by outcome (successful, failed, retried, dismissed, interrupted).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 14),
		}, []string{"outcome"}),
		BytesRead:    prometheus.NewCounter(prometheus.CounterOpts{Name: "subsetd_bytes_read_total", Help: "Bytes of values read from input files by the engine."}),
		BytesWritten: prometheus.NewCounter(prometheus.CounterOpts{Name: "subsetd_bytes_written_total", Help: "Bytes of output files written."}),
		FilesOpened:  prometheus.NewCounter(prometheus.CounterOpts{Name: "subsetd_input_files_opened_total", Help: "Input files opened by the engine in successful tasks."}),
		TaskRetries:  prometheus.NewCounter(prometheus.CounterOpts{Name: "subsetd_task_retries_total", Help: "Tasks put back in the queue after their worker died."}),
	}
	reg.MustRegister(m.TaskDuration, m.BytesRead, m.BytesWritten, m.FilesOpened, m.TaskRetries, &storeCollector{store: store})
	return m
}

func (m *Metrics) observe(outcome string, d time.Duration) {
	if m != nil {
		m.TaskDuration.WithLabelValues(outcome).Observe(d.Seconds())
	}
}

var (
	jobsDesc  = prometheus.NewDesc("subsetd_jobs", "Jobs in the store by status.", []string{"status"}, nil)
	queueDesc = prometheus.NewDesc("subsetd_queue_depth", "Tasks waiting for a worker.", nil, nil)
)

type storeCollector struct{ store *jobs.Store }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc; ch <- queueDesc }

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, queued, err := c.store.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for _, s := range jobs.JobStatuses {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(queued))
}
