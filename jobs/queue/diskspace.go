package queue

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// Reserve is the free space the state directory keeps: below it, new jobs
// are refused (507) and /readyz says so. Bytes and Percent (of the file
// system's size) are alternatives: the larger applies. Zero: no reserve.
type Reserve struct {
	Bytes   int64
	Percent float64
}

// ParseReserve reads "1GiB", "500MiB", "1073741824" (bytes, with a KiB,
// MiB, GiB or TiB suffix), "2%" (of the file system's size) or "0".
func ParseReserve(s string) (Reserve, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v >= 100 || math.IsNaN(v) {
			return Reserve{}, fmt.Errorf("%q: a percentage is a number from 0 to 100 (\"2%%\")", s)
		}
		return Reserve{Percent: v}, nil
	}
	mult := int64(1)
	for i, suf := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if v, ok := strings.CutSuffix(t, suf); ok {
			mult, t = int64(1)<<(10*(i+1)), strings.TrimSpace(v)
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return Reserve{}, fmt.Errorf("%q: give bytes (\"1073741824\"), a size with KiB, MiB, GiB or TiB (\"1GiB\"), a percentage (\"2%%\") or 0", s)
	}
	return Reserve{Bytes: n * mult}, nil
}

// String writes the reserve as ParseReserve reads it.
func (r Reserve) String() string {
	if r.Percent > 0 {
		return strconv.FormatFloat(r.Percent, 'g', -1, 64) + "%"
	}
	return humanBytes(r.Bytes)
}

// need is the free space to keep on a file system of total bytes.
func (r Reserve) need(total uint64) uint64 {
	n := uint64(max(r.Bytes, 0))
	if p := uint64(r.Percent / 100 * float64(total)); p > n {
		n = p
	}
	return n
}

// FreeSpace tells the bytes an unprivileged writer may still use on dir's
// file system and the file system's size.
type FreeSpace func(dir string) (free, total uint64, err error)

// Statfs is the FreeSpace of the operating system.
func Statfs(dir string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// lowSpace is a NoSpace error when the state directory has less free space
// than the reserve, saying how much is free, the reserve and the shortfall;
// nil otherwise (and when the space cannot be told).
func (s *Service) lowSpace() error {
	if s.cfg.MinFree == (Reserve{}) {
		return nil
	}
	free, total, err := s.cfg.FreeSpace(s.cfg.StateDir)
	if err != nil {
		s.log.Warn().Err(err).Msg("free space of the state directory")
		return nil
	}
	need := s.cfg.MinFree.need(total)
	if free >= need {
		return nil
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(free) / float64(total)
	}
	return errs.E(errs.NoSpace, "the server is low on disk space: %s free in its state directory (%.1f%% of %s), below the %s it keeps free (%s short)",
		humanBytes(int64(free)), pct, humanBytes(int64(total)), s.cfg.MinFree, humanBytes(int64(need-free)))
}

// humanBytes writes n in the largest binary unit that keeps it at least 1.
func humanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// noSpaceErrno is ENOSPC or EDQUOT when err wraps one of them.
func noSpaceErrno(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// sweepUnlisted removes the files under a final job's files folder that
// its manifest does not list (outputs of a task that ended after its job,
// a placement interrupted): a file is at its final path only when listed.
func (s *Service) sweepUnlisted(id string, m *jobs.Manifest) {
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
	}
	dir := s.filesDir(id)
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, rerr := filepath.Rel(dir, p)
		if rerr == nil && !listed[filepath.ToSlash(rel)] {
			if os.Remove(p) == nil {
				s.log.Warn().Str("job_id", id).Str("file", filepath.ToSlash(rel)).Msg("removed a file its job does not list")
			}
		}
		return nil
	})
}
