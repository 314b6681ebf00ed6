package netcdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// The header of a netCDF-3 file (classic, 64-bit offset or CDF-5) is parsed
// here, in Go, before netCDF-C opens the file. netCDF-C trusts the counts of
// a header: a corrupt one makes it allocate gigabytes, or overflow the
// buffers of its callers (a variable with more than NC_MAX_VAR_DIMS
// dimensions), and it reads past the end of a truncated file without an
// error (the missing values come back as zeros), so a truncated download
// would be cut and served as if it were whole. The parser checks every
// count against the bytes left in the file before it loops or allocates,
// and the data the header describes against the file's size.

// maxVarDims is netCDF-C's NC_MAX_VAR_DIMS: the dimensions of one variable.
const maxVarDims = 1024

// errTruncated marks a file shorter than its header says.
var errTruncated = errors.New("truncated file")

// checkClassicHeader parses the header of the netCDF-3 file at path and
// checks that the file is as long as the data it describes. Errors say what
// is wrong in the file; a truncated file's wraps errTruncated.
func checkClassicHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return checkClassic(io.NewSectionReader(f, 0, st.Size()), st.Size())
}

// checkClassic is checkClassicHeader on the size bytes of r.
func checkClassic(r io.ReaderAt, size int64) error {
	h := &hdr{r: r, size: size}
	need, err := h.dataEnd()
	if errors.Is(err, errShort) {
		return fmt.Errorf("its header runs past the end of the file (%d bytes, from byte %d)", size, h.off)
	}
	if err != nil {
		return err
	}
	if need > size {
		return fmt.Errorf("%w: %d bytes, but its header describes data up to byte %d", errTruncated, size, need)
	}
	return nil
}

type hdr struct {
	r       io.ReaderAt
	size    int64 // of the file: nothing read may go past it
	off     int64
	version byte
}

var errShort = errors.New("header ends early")

// left is how many bytes follow the current offset.
func (h *hdr) left() int64 { return h.size - h.off }

// bytes reads n bytes; more than the file has left is errShort, so no
// corrupt length is ever allocated.
func (h *hdr) bytes(n int64) ([]byte, error) {
	if n < 0 || n > h.left() {
		return nil, errShort
	}
	b := make([]byte, n)
	if _, err := h.r.ReadAt(b, h.off); err != nil {
		return nil, errShort
	}
	h.off += n
	return b, nil
}

// skip moves past n bytes (names, attribute values) without reading them.
func (h *hdr) skip(n int64) error {
	if n < 0 || n > h.left() {
		return errShort
	}
	h.off += n
	return nil
}

func (h *hdr) u32() (int64, error) {
	b, err := h.bytes(4)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint32(b)), nil
}

func (h *hdr) u64() (uint64, error) {
	b, err := h.bytes(8)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}

// count reads a non-negative count: 32 bits, 64 in CDF-5.
func (h *hdr) count() (int64, error) {
	if h.version != 5 {
		return h.u32()
	}
	v, err := h.u64()
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt64 {
		return 0, fmt.Errorf("a count of %d at byte %d", v, h.off-8)
	}
	return int64(v), nil
}

// items reads the count of a list whose entries take at least unit bytes
// each, and refuses one the rest of the file cannot hold.
func (h *hdr) items(what string, unit int64) (int64, error) {
	at := h.off
	n, err := h.count()
	if err != nil {
		return 0, err
	}
	if n > h.left()/unit {
		return 0, fmt.Errorf("the header declares %d %s at byte %d, more than the %d bytes left in the file hold", n, what, at, h.left())
	}
	return n, nil
}

func (h *hdr) offset() (int64, error) {
	if h.version == 1 {
		return h.u32()
	}
	v, err := h.u64()
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt64 {
		return 0, fmt.Errorf("an offset of %d at byte %d", v, h.off-8)
	}
	return int64(v), nil
}

// padded is n rounded up to a multiple of 4, or -1 when that overflows.
func padded(n int64) int64 {
	if n > math.MaxInt64-3 {
		return -1
	}
	return (n + 3) &^ 3
}

func (h *hdr) name() error {
	n, err := h.count()
	if err != nil {
		return err
	}
	return h.skip(padded(n))
}

var classicSize = map[int64]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}

// The least an entry of each list takes: a name (its length, even if
// empty) and a count or two.
const (
	minDim  = 8  // name length, length
	minAttr = 12 // name length, type, count of values
	minVar  = 24 // name length, dimension count, attribute tag and count, type, size, offset
)

func (h *hdr) attrs() error {
	tag, err := h.u32()
	if err != nil {
		return err
	}
	n, err := h.items("attributes", minAttr)
	if err != nil {
		return err
	}
	if tag == 0 && n == 0 {
		return nil
	}
	if tag != 0x0C {
		return fmt.Errorf("bad attribute list tag %#x at byte %d", tag, h.off-8)
	}
	for i := int64(0); i < n; i++ {
		if err := h.name(); err != nil {
			return err
		}
		t, err := h.u32()
		if err != nil {
			return err
		}
		sz, ok := classicSize[t]
		if !ok {
			return fmt.Errorf("bad attribute type %d at byte %d", t, h.off-4)
		}
		nelems, err := h.count()
		if err != nil {
			return err
		}
		if nelems > h.left()/sz {
			return errShort
		}
		if err := h.skip(padded(nelems * sz)); err != nil {
			return err
		}
	}
	return nil
}

// dataEnd parses the header and returns the offset just past the last data.
func (h *hdr) dataEnd() (int64, error) {
	magic, err := h.bytes(4)
	if err != nil {
		return 0, err
	}
	if string(magic[:3]) != "CDF" || (magic[3] != 1 && magic[3] != 2 && magic[3] != 5) {
		return 0, errors.New("not a netCDF-3 file")
	}
	h.version = magic[3]
	var numrecs int64
	streaming := false
	if h.version == 5 {
		v, err := h.u64()
		if err != nil {
			return 0, err
		}
		streaming = v == math.MaxUint64
		numrecs = int64(min(v, math.MaxInt64))
	} else if numrecs, err = h.u32(); err != nil {
		return 0, err
	} else {
		streaming = numrecs == math.MaxUint32
	}
	// Dimensions.
	tag, err := h.u32()
	if err != nil {
		return 0, err
	}
	ndims, err := h.items("dimensions", minDim)
	if err != nil {
		return 0, err
	}
	if tag != 0x0A && !(tag == 0 && ndims == 0) {
		return 0, fmt.Errorf("bad dimension list tag %#x at byte %d", tag, h.off-8)
	}
	dimLen := make([]int64, ndims)
	for i := range dimLen {
		if err := h.name(); err != nil {
			return 0, err
		}
		if dimLen[i], err = h.count(); err != nil {
			return 0, err
		}
	}
	if err := h.attrs(); err != nil {
		return 0, err
	}
	tag, err = h.u32()
	if err != nil {
		return 0, err
	}
	nvars, err := h.items("variables", minVar)
	if err != nil {
		return 0, err
	}
	if tag != 0x0B && !(tag == 0 && nvars == 0) {
		return 0, fmt.Errorf("bad variable list tag %#x at byte %d", tag, h.off-8)
	}
	end := int64(0)
	var recSize, lastRecBegin, lastRecVsize int64
	for i := int64(0); i < nvars; i++ {
		if err := h.name(); err != nil {
			return 0, err
		}
		at := h.off
		nd, err := h.count()
		if err != nil {
			return 0, err
		}
		if nd > maxVarDims {
			return 0, fmt.Errorf("variable %d has %d dimensions (byte %d), more than netCDF allows (%d)", i, nd, at, maxVarDims)
		}
		isRec := false
		for j := int64(0); j < nd; j++ {
			id, err := h.count()
			if err != nil {
				return 0, err
			}
			if id < 0 || id >= ndims {
				return 0, fmt.Errorf("variable %d uses dimension id %d of %d", i, id, ndims)
			}
			if j == 0 && dimLen[id] == 0 {
				isRec = true
			}
		}
		if err := h.attrs(); err != nil {
			return 0, err
		}
		t, err := h.u32()
		if err != nil {
			return 0, err
		}
		if _, ok := classicSize[t]; !ok {
			return 0, fmt.Errorf("variable %d has a bad type %d (byte %d)", i, t, h.off-4)
		}
		vsize, err := h.count()
		if err != nil {
			return 0, err
		}
		begin, err := h.offset()
		if err != nil {
			return 0, err
		}
		if isRec {
			if recSize += vsize; recSize < 0 {
				return 0, fmt.Errorf("the record variables' sizes overflow (variable %d)", i)
			}
			if begin >= lastRecBegin {
				lastRecBegin, lastRecVsize = begin, vsize
			}
		} else if e := begin + vsize; e < 0 {
			return 0, fmt.Errorf("variable %d's data ends beyond any file (begins at %d, %d bytes)", i, begin, vsize)
		} else if e > end {
			end = e
		}
	}
	// The data starts after the header.
	end = max(end, h.off)
	if recSize > 0 && numrecs > 0 && !streaming {
		// A single record variable is not padded, so the last record ends
		// at begin + (numrecs-1)*recsize + vsize.
		if numrecs-1 > (math.MaxInt64-lastRecBegin-lastRecVsize)/recSize {
			return 0, fmt.Errorf("%d records of %d bytes end beyond any file", numrecs, recSize)
		}
		if e := lastRecBegin + (numrecs-1)*recSize + lastRecVsize; e > end {
			end = e
		}
	}
	return end, nil
}
