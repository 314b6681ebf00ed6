package api

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/jobs"
)

// putFile writes data as a file of the fake's job and returns its record;
// withCRC false leaves its CRC-32 unknown, as servers before it kept it.
func putFile(t *testing.T, f *fake, name string, data []byte, withCRC bool) jobs.File {
	t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sh, m5 := sha256.Sum256(data), md5.Sum(data)
	fl := jobs.File{Name: name, Size: int64(len(data)), Sha256: hex.EncodeToString(sh[:]), Md5: hex.EncodeToString(m5[:])}
	if withCRC {
		fl.Crc32 = crc32.ChecksumIEEE(data)
	}
	return fl
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// finishedJob is a successful job of the fake with the granule outputs of
// two regions (both have a granule a.nc), an empty region and the job's
// own statistics.
func finishedJob(t *testing.T, c *client, f *fake, hdr ...string) (*jobs.Job, map[string][]byte) {
	t.Helper()
	c.do("POST", "/v1/jobs", `{"dataset": "sst", "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]},
		{"name": "agulhas", "bbox": [20, -40, 30, -30]}, {"name": "none", "bbox": [0, 0, 1, 1]}]}`, hdr...)
	j := f.jobs["job001"]
	content := map[string][]byte{
		"benguela/a.nc": randomBytes(1, 100000), "benguela/b.nc": randomBytes(2, 3),
		"agulhas/a.nc": randomBytes(3, 70000), "stats.csv": []byte("region,time,variable,op,value,count\n"),
	}
	j.Regions[0].Files = []jobs.File{putFile(t, f, "benguela/a.nc", content["benguela/a.nc"], true), putFile(t, f, "benguela/b.nc", content["benguela/b.nc"], false)}
	j.Regions[1].Files = []jobs.File{putFile(t, f, "agulhas/a.nc", content["agulhas/a.nc"], true)}
	j.Files = []jobs.File{putFile(t, f, "stats.csv", content["stats.csv"], true)}
	j.Status, j.Finished = jobs.Successful, j.Created.Add(time.Minute)
	for i := range j.Regions {
		j.Regions[i].Status = jobs.Successful
	}
	j.Regions[2].Status = jobs.Empty
	return j, content
}

func TestArchiveIsTheManifest(t *testing.T) {
	c, f := setup(t)
	_, content := finishedJob(t, c, f)
	resp, body := c.do("GET", "/v1/jobs/job001/files.zip", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || resp.Header.Get("Content-Disposition") != `attachment; filename=job001.zip` {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	_, mb := c.do("GET", "/v1/jobs/job001/manifest.json", "")
	var m jobs.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(m.Files) {
		t.Fatalf("%d members, %d files in the manifest", len(zr.File), len(m.Files))
	}
	want := []string{"benguela/a.nc", "benguela/b.nc", "agulhas/a.nc", "stats.csv"}
	for i, zf := range zr.File {
		e := m.Files[i]
		if zf.Name != want[i] || zf.Name != e.Name || zf.Method != zip.Store || int64(zf.UncompressedSize64) != e.Size {
			t.Errorf("member %d: %s (method %d, %d bytes) for manifest %+v", i, zf.Name, zf.Method, zf.UncompressedSize64, e)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // checks the CRC-32
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != e.Sha256 || !bytes.Equal(got, content[e.Name]) {
			t.Errorf("%s: content differs", zf.Name)
		}
		if !zf.Modified.Equal(time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC)) {
			t.Errorf("%s: modified %v, want the job's end", zf.Name, zf.Modified)
		}
	}
	// The local headers carry the sizes and CRC (no data descriptors):
	// a reader going from the start finds each member.
	if flags := binary.LittleEndian.Uint16(body[6:]); flags&0x8 != 0 {
		t.Errorf("first local header flags %#x: data descriptor", flags)
	}
	if crc := binary.LittleEndian.Uint32(body[14:]); crc != crc32.ChecksumIEEE(content["benguela/a.nc"]) {
		t.Errorf("first local header CRC %08x", crc)
	}

	// Other readers of the archive: unzip and Python's zipfile.
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "files.zip")
	os.WriteFile(zipPath, body, 0o644)
	if out, err := exec.Command("unzip", "-t", zipPath).CombinedOutput(); err != nil || !strings.Contains(string(out), "No errors detected") {
		t.Errorf("unzip -t: %v\n%s", err, out)
	}
	py := `import sys, zipfile, hashlib, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))`
	out, err := exec.Command("/usr/bin/python3", "-c", py, zipPath).Output()
	if err != nil {
		t.Fatalf("python zipfile: %v", err)
	}
	var listed [][]any
	json.Unmarshal(out, &listed)
	for i, l := range listed {
		if l[0] != want[i] || l[1] != float64(m.Files[i].Size) || l[2] != m.Files[i].Sha256 {
			t.Errorf("python sees %v, manifest %+v", l, m.Files[i])
		}
	}

	// sha256sums checks the unpacked archive with sha256sum -c.
	r, sums := c.do("GET", "/v1/jobs/job001/sha256sums", "")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") || strings.Count(string(sums), "\n") != 4 {
		t.Fatalf("sha256sums: %d %s", r.StatusCode, sums)
	}
	if out, err := exec.Command("unzip", "-q", zipPath, "-d", filepath.Join(dir, "x")).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "x", "SHA256SUMS"), sums, 0o644)
	check := func() *exec.Cmd {
		cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
		cmd.Dir = filepath.Join(dir, "x")
		return cmd
	}
	if out, err := check().CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 4 {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	// A file changed behind the server's back fails the check.
	os.WriteFile(filepath.Join(dir, "x", "agulhas", "a.nc"), []byte("x"), 0o644)
	if out, err := check().CombinedOutput(); err == nil || !strings.Contains(string(out), "agulhas/a.nc: FAILED") {
		t.Fatalf("sha256sum -c of a changed file: %v\n%s", err, out)
	}

	// The same bytes at every request; a conditional GET.
	resp2, body2 := c.do("GET", "/v1/jobs/job001/files.zip", "")
	if !bytes.Equal(body, body2) || resp2.Header.Get("ETag") == "" || resp2.Header.Get("ETag") != resp.Header.Get("ETag") {
		t.Error("the archive differs between two requests")
	}
	if r, _ := c.do("GET", "/v1/jobs/job001/files.zip", "", "If-None-Match", resp2.Header.Get("ETag")); r.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
}

func TestArchiveOfAnActiveJobAndUniqueDownloadNames(t *testing.T) {
	c, f := setup(t)
	finishedJob(t, c, f)
	r, body := c.do("GET", "/v1/jobs/job001/files/benguela/a.nc", "")
	if r.StatusCode != 200 || r.Header.Get("Content-Disposition") != `attachment; filename=benguela_a.nc` || len(body) != 100000 {
		t.Errorf("granule download: %d %q", r.StatusCode, r.Header.Get("Content-Disposition"))
	}
	f.jobs["job001"].Status = jobs.Running
	r, body = c.do("GET", "/v1/jobs/job001/files.zip", "")
	if r.StatusCode != 409 || !strings.Contains(string(body), "once it is finished") {
		t.Errorf("archive of a running job: %d %s", r.StatusCode, body)
	}
	// sha256sums lists the files so far, as the manifest does.
	if r, body := c.do("GET", "/v1/jobs/job001/sha256sums", ""); r.StatusCode != 200 || strings.Count(string(body), "\n") != 4 {
		t.Errorf("sha256sums of a running job: %d %s", r.StatusCode, body)
	}
	for _, p := range []string{"/v1/jobs/nope/files.zip", "/v1/jobs/nope/sha256sums"} {
		if r, _ := c.do("GET", p, ""); r.StatusCode != 404 {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	// A file gone from disk: no archive that would stop half-way.
	f.jobs["job001"].Status = jobs.Successful
	os.Remove(filepath.Join(f.dir, "agulhas", "a.nc"))
	if r, body := c.do("GET", "/v1/jobs/job001/files.zip", ""); r.StatusCode != 404 || !strings.Contains(string(body), "no longer available") {
		t.Errorf("archive with a file gone: %d %s", r.StatusCode, body)
	}
}

func TestFileObjectsAndPublicURL(t *testing.T) {
	c, f := setup(t, func(o *Options) { o.PublicURL = "https://data.example.org/subsetd/" })
	j, _ := finishedJob(t, c, f)
	j.Regions[0].Files[0].Shape = map[string]int{"time": 2, "lat": 3}
	r, body := c.do("GET", "/v1/jobs/job001", "")
	var d JobDoc
	if err := json.Unmarshal(body, &d); err != nil || r.StatusCode != 200 {
		t.Fatal(r.StatusCode, err)
	}
	fd := d.Regions[0].Files[0]
	if fd.Region != "benguela" || fd.Shape["lat"] != 3 || fd.Href != "https://data.example.org/subsetd/v1/jobs/job001/files/benguela/a.nc" {
		t.Errorf("file object %+v", fd)
	}
	if d.Files[0].Region != "" || d.Files[0].Name != "stats.csv" {
		t.Errorf("the job's own file %+v", d.Files[0])
	}
	for _, l := range d.Links {
		if !strings.HasPrefix(l.Href, "https://data.example.org/subsetd/v1/jobs/job001") {
			t.Errorf("link %+v", l)
		}
	}
	r, _ = c.do("POST", "/v1/jobs", goodJob)
	if loc := r.Header.Get("Location"); loc != "https://data.example.org/subsetd/v1/jobs/job002" {
		t.Errorf("Location %q", loc)
	}
	_, body = c.do("GET", "/v1/jobs/job001/manifest.json", "")
	if !bytes.Contains(body, []byte(`"href":"https://data.example.org/subsetd/v1/jobs/job001/files/agulhas/a.nc"`)) {
		t.Errorf("manifest %s", body)
	}
	_, body = c.do("GET", "/v1/datasets", "")
	if !bytes.Contains(body, []byte(`"href":"https://data.example.org/subsetd/v1/datasets/sst"`)) {
		t.Errorf("datasets %s", body)
	}
}

// A member of 4 GiB and more: ZIP64 sizes in its local header and in the
// central directory, the next member's offset past 4 GiB. The big file is
// sparse and so is the archive written from it, so the test costs reading,
// not disk.
func TestArchiveZIP64(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 4 GiB")
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "big.nc")
	const size = math.MaxUint32 + 1000
	tail := []byte("the end of a large file")
	fh, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteAt(tail, size-int64(len(tail)))
	fh.Close()
	var crc uint32
	zeros := make([]byte, 1<<22)
	for left := size - int64(len(tail)); left > 0; left -= int64(len(zeros)) {
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:min(left, int64(len(zeros)))])
	}
	crc = crc32.Update(crc, crc32.IEEETable, tail)
	small := randomBytes(7, 5000)
	os.WriteFile(filepath.Join(dir, "small.nc"), small, 0o644)
	ms := []member{
		{name: "r/big.nc", open: func() (*os.File, error) { return os.Open(big) }, f: jobs.File{Name: "r/big.nc", Size: size, Crc32: crc}},
		{name: "r/small.nc", open: func() (*os.File, error) { return os.Open(filepath.Join(dir, "small.nc")) }, f: jobs.File{Name: "r/small.nc", Size: int64(len(small)), Crc32: crc32.ChecksumIEEE(small)}},
	}
	mod := time.Date(2025, 3, 4, 5, 6, 8, 0, time.UTC)
	n, err := writeZip(io.Discard, ms, mod, false)
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "files.zip")
	out, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	sw := &sparseWriter{f: out}
	if m, err := writeZip(sw, ms, mod, true); err != nil || m != n {
		t.Fatalf("wrote %d bytes (%v), the dry run said %d", m, err, n)
	}
	if err := out.Truncate(n); err != nil {
		t.Fatal(err)
	}
	out.Close()

	head := make([]byte, 30+len("r/big.nc")+20)
	rf, _ := os.Open(zipPath)
	rf.ReadAt(head, 0)
	rf.Close()
	le := binary.LittleEndian
	if le.Uint32(head[18:]) != math.MaxUint32 || le.Uint32(head[22:]) != math.MaxUint32 || le.Uint16(head[4:]) != 45 ||
		le.Uint16(head[30+8:]) != 1 || le.Uint64(head[30+8+4:]) != size || le.Uint64(head[30+8+12:]) != size {
		t.Fatalf("local header of the large member: % x", head)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 2 || zr.File[0].UncompressedSize64 != size || zr.File[1].Name != "r/small.nc" {
		t.Fatalf("members %+v", zr.File)
	}
	// The small member, past 4 GiB, reads back with its CRC; the large
	// one's bytes were all written (the lengths above).
	for _, zf := range zr.File[1:] {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil { // the CRC is checked at the end
			t.Fatalf("%s: %v", zf.Name, err)
		}
		rc.Close()
	}
	if out, err := exec.Command("unzip", "-l", zipPath).CombinedOutput(); err != nil || !strings.Contains(string(out), "4294968295") {
		t.Errorf("unzip -l: %v\n%s", err, out)
	}
	py := `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
a, b = z.infolist()
assert a.file_size == 4294968295 and b.header_offset > 2**32, (a.file_size, b.header_offset)
sys.stdout.buffer.write(z.read("r/small.nc"))`
	got, err := exec.Command("/usr/bin/python3", "-c", py, zipPath).Output()
	if err != nil || !bytes.Equal(got, small) {
		t.Fatalf("python zipfile: %v", err)
	}
}

// sparseWriter writes a file, leaving holes where the data is zeros.
type sparseWriter struct {
	f   *os.File
	off int64
}

func (w *sparseWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 1 << 16 {
		part := p[i:min(i+1<<16, len(p))]
		if !allZero(part) {
			if _, err := w.f.WriteAt(part, w.off); err != nil {
				return i, err
			}
		}
		w.off += int64(len(part))
	}
	return len(p), nil
}

var zeroBlock = make([]byte, 1<<16)

func allZero(b []byte) bool { return bytes.Equal(b, zeroBlock[:len(b)]) }
