package api

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// A job's files as one download: GET /v1/jobs/{id}/files.zip streams
// them in a ZIP archive, stored (NetCDF outputs are compressed already),
// and GET /v1/jobs/{id}/sha256sums lists their checksums in the format
// `sha256sum -c` reads, under the same names. The archive is written as it
// is sent; it is the same bytes every time (the members' times are the
// job's end), so its length is known before the first byte and its ETag
// names its content.

// A file is named in the archive and in sha256sums by its name in the job,
// the layout `subsetd subset --out` and `subsetd fetch` write: <region>.nc,
// <region>/<file stem>.nc for granules, the job's own files (statistics) at
// the top. So `unzip` and `fetch` give the same folder, and sha256sums
// checks either.

// DownloadName is the file name a download of a job's file is offered
// under (Content-Disposition): its name with '/' as '_', so that the
// granules of different regions (benguela/a.nc, agulhas/a.nc) do not
// land on one name.
func DownloadName(name string) string { return strings.ReplaceAll(name, "/", "_") }

// attachment is a Content-Disposition offering a download as name
// (RFC 6266; non-ASCII names as filename*).
func attachment(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}

// member is a file of an archive.
type member struct {
	name string                   // in the archive
	open func() (*os.File, error) // its bytes (Backend.File, each time)
	f    jobs.File
}

// members are the files of j's manifest, in its order, each checked on
// disk; a file that is gone is an error.
func (h *handler) members(ctx context.Context, j *jobs.Job) ([]member, error) {
	var out []member
	for _, e := range jobs.BuildManifest(j).Files {
		fh, f, err := h.b.File(ctx, j.ID, e.Name)
		if err != nil {
			return nil, err
		}
		st, err := fh.Stat()
		fh.Close()
		if err != nil || st.Size() != f.Size {
			return nil, errs.E(errs.Internal, "file %s of job %s changed on disk", e.Name, j.ID)
		}
		// Opened again when its bytes are sent: an archive of thousands of
		// files holds one open at a time.
		name := e.Name
		open := func() (*os.File, error) {
			fh, _, err := h.b.File(context.WithoutCancel(ctx), j.ID, name)
			return fh, err
		}
		out = append(out, member{name: e.Name, open: open, f: *f})
	}
	return out, nil
}

func (h *handler) sha256sums(w http.ResponseWriter, r *http.Request) {
	j := jobOf(r.Context())
	var b bytes.Buffer
	for _, e := range jobs.BuildManifest(j).Files {
		// Two spaces: the text-mode separator of sha256sum.
		fmt.Fprintf(&b, "%s  %s\n", e.Sha256, e.Name)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Content-Disposition", attachment("SHA256SUMS"))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

func (h *handler) archive(w http.ResponseWriter, r *http.Request) {
	j := jobOf(r.Context())
	if !j.Status.Final() {
		writeError(w, r, errs.E(errs.Conflict, "job %s is %s: its archive is made once it is finished (the files of finished regions can be downloaded one by one meanwhile)", j.ID, j.Status))
		return
	}
	ms, err := h.members(r.Context(), j)
	if err != nil {
		writeError(w, r, err)
		return
	}
	for i := range ms {
		if ms[i].f.Crc32 == 0 { // files of servers before CRC-32 was kept
			if ms[i].f.Crc32, err = fileCRC(ms[i].open); err != nil {
				writeError(w, r, errs.Wrap(errs.Internal, err, "file %s of job %s", ms[i].f.Name, j.ID))
				return
			}
		}
	}
	mod := j.Finished
	size, err := writeZip(io.Discard, ms, mod, false)
	if err != nil {
		writeError(w, r, errs.Wrap(errs.Internal, err, "archive of job %s", j.ID))
		return
	}
	tag := archiveTag(ms)
	hdr := w.Header()
	hdr.Set("ETag", tag)
	hdr.Set("Cache-Control", "private, max-age=3600")
	if match := r.Header.Get("If-None-Match"); match != "" && (match == tag || match == "*") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", "application/zip")
	hdr.Set("Content-Disposition", attachment(j.ID+".zip"))
	hdr.Set("Content-Length", strconv.FormatInt(size, 10))
	hdr.Set("Accept-Ranges", "none")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if n, err := writeZip(progressWriter(w, h.opt.WriteTimeout), ms, mod, true); err != nil || n != size {
		// The client sees a short body: the length said more.
		zerolog.Ctx(r.Context()).Warn().Err(err).Int64("sent", n).Int64("size", size).Msg("archive interrupted")
		panic(http.ErrAbortHandler)
	}
}

// archiveTag is the ETag of an archive: a digest of its members' names,
// sizes and checksums (the rest of its bytes follows from them).
func archiveTag(ms []member) string {
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%s\x00%d\x00%s\n", m.name, m.f.Size, m.f.Sha256)
	}
	return `"zip-` + hex.EncodeToString(h.Sum(nil))[:32] + `"`
}

func fileCRC(open func() (*os.File, error)) (uint32, error) {
	f, err := open()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	c := crc32.NewIEEE()
	_, err = io.Copy(c, f)
	return c.Sum32(), err
}

// writeZip writes the archive of ms to w and returns its length. Without
// data, the files' bytes are not read (zeros are counted in their place):
// the length of the archive the same call with data writes.
//
// Members are stored with their sizes and CRC-32 in the local headers, so
// that the archive can be read from the start as well as from its central
// directory; a member of 4 GiB or more gets the ZIP64 sizes in its local
// header too (archive/zip adds them to the central directory, and the
// ZIP64 end records when the archive needs them).
func writeZip(w io.Writer, ms []member, mod time.Time, data bool) (int64, error) {
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	buf := make([]byte, 1<<20)
	if !data {
		clear(buf)
	}
	dosDate, dosTime := msdosTime(mod)
	for _, m := range ms {
		size := uint64(m.f.Size)
		fh := &zip.FileHeader{Name: m.name, Method: zip.Store, CRC32: m.f.Crc32, CompressedSize64: size, UncompressedSize64: size, ReaderVersion: 20}
		// CreateRaw writes these fields as they are (Modified is read by
		// CreateHeader only).
		//lint:ignore SA1019 the MS-DOS fields are what a raw header holds
		fh.ModifiedDate, fh.ModifiedTime = dosDate, dosTime
		fh.SetMode(0o644) // also says the attributes are Unix ones
		fh.CreatorVersion = fh.CreatorVersion&0xff00 | 45
		if !isASCII(m.name) && utf8.ValidString(m.name) {
			fh.Flags |= 0x800 // the name is UTF-8
		}
		if size >= math.MaxUint32 {
			fh.ReaderVersion = 45
			fh.Extra = zip64Sizes(size)
		}
		fw, err := zw.CreateRaw(fh)
		if err != nil {
			return cw.n, err
		}
		// The local header is written: the central directory gets the
		// ZIP64 field archive/zip makes (with the member's offset).
		fh.Extra = nil
		if data {
			if err := copyFile(fw, m.open, m.f.Size, buf); err != nil {
				return cw.n, err
			}
			continue
		}
		for left := m.f.Size; left > 0; {
			k := min(left, int64(len(buf)))
			fw.Write(buf[:k])
			left -= k
		}
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// copyFile copies exactly size bytes of the file open opens to w.
func copyFile(w io.Writer, open func() (*os.File, error), size int64, buf []byte) error {
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(w, io.LimitReader(f, size), buf)
	if err == nil && n != size {
		err = fmt.Errorf("%s: %d bytes read, %d expected", path.Base(f.Name()), n, size)
	}
	return err
}

// zip64Sizes is the ZIP64 extended information field of a local header:
// the uncompressed and compressed sizes.
func zip64Sizes(size uint64) []byte {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint16(b[0:], 0x0001)
	binary.LittleEndian.PutUint16(b[2:], 16)
	binary.LittleEndian.PutUint64(b[4:], size)
	binary.LittleEndian.PutUint64(b[12:], size)
	return b
}

// msdosTime is t (UTC) as the date and time fields of a ZIP header.
func msdosTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
