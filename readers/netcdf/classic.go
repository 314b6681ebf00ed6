package netcdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// checkClassicSize reads the header of a netCDF-3 file (classic, 64-bit
// offset or CDF-5) and checks that the file is as long as the data the
// header describes. netCDF-C reads past the end of a truncated classic file
// without an error (the missing values come back as zeros), so a truncated
// download would otherwise be cut and served as if it were whole.
func checkClassicSize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := &hdr{r: io.NewSectionReader(f, 0, st.Size())}
	need, err := h.dataEnd()
	if err != nil {
		return fmt.Errorf("corrupt netCDF-3 header: %w", err)
	}
	if need > st.Size() {
		return fmt.Errorf("truncated file: %d bytes, but its header describes data up to byte %d", st.Size(), need)
	}
	return nil
}

type hdr struct {
	r       *io.SectionReader
	off     int64
	version byte
}

var errShort = errors.New("header ends early")

func (h *hdr) bytes(n int64) ([]byte, error) {
	if n < 0 || n > 1<<30 {
		return nil, fmt.Errorf("implausible length %d", n)
	}
	b := make([]byte, n)
	if _, err := h.r.ReadAt(b, h.off); err != nil {
		return nil, errShort
	}
	h.off += n
	return b, nil
}

func (h *hdr) u32() (int64, error) {
	b, err := h.bytes(4)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint32(b)), nil
}

// count reads a non-negative count: 32 bits, 64 in CDF-5.
func (h *hdr) count() (int64, error) {
	if h.version == 5 {
		b, err := h.bytes(8)
		if err != nil {
			return 0, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return h.u32()
}

func (h *hdr) offset() (int64, error) {
	if h.version == 1 {
		return h.u32()
	}
	b, err := h.bytes(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func (h *hdr) name() error {
	n, err := h.count()
	if err != nil {
		return err
	}
	_, err = h.bytes((n + 3) &^ 3)
	return err
}

var classicSize = map[int64]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}

func (h *hdr) attrs() error {
	tag, err := h.u32()
	if err != nil {
		return err
	}
	n, err := h.count()
	if err != nil {
		return err
	}
	if tag == 0 && n == 0 {
		return nil
	}
	if tag != 0x0C {
		return fmt.Errorf("bad attribute list tag %#x", tag)
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
			return fmt.Errorf("bad attribute type %d", t)
		}
		nelems, err := h.count()
		if err != nil {
			return err
		}
		if _, err := h.bytes((nelems*sz + 3) &^ 3); err != nil {
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
	numrecs, err := h.count()
	if err != nil {
		return 0, err
	}
	streaming := numrecs == 0xFFFFFFFF || (h.version == 5 && numrecs == -1)
	// Dimensions.
	tag, err := h.u32()
	if err != nil {
		return 0, err
	}
	ndims, err := h.count()
	if err != nil {
		return 0, err
	}
	if tag != 0x0A && !(tag == 0 && ndims == 0) {
		return 0, fmt.Errorf("bad dimension list tag %#x", tag)
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
	nvars, err := h.count()
	if err != nil {
		return 0, err
	}
	if tag != 0x0B && !(tag == 0 && nvars == 0) {
		return 0, fmt.Errorf("bad variable list tag %#x", tag)
	}
	end := h.off
	var recSize, lastRecBegin, lastRecVsize int64
	for i := int64(0); i < nvars; i++ {
		if err := h.name(); err != nil {
			return 0, err
		}
		nd, err := h.count()
		if err != nil {
			return 0, err
		}
		isRec := false
		for j := int64(0); j < nd; j++ {
			id, err := h.count()
			if err != nil {
				return 0, err
			}
			if id < 0 || id >= ndims {
				return 0, fmt.Errorf("variable uses dimension id %d of %d", id, ndims)
			}
			if j == 0 && dimLen[id] == 0 {
				isRec = true
			}
		}
		if err := h.attrs(); err != nil {
			return 0, err
		}
		if _, err := h.u32(); err != nil { // type
			return 0, err
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
			recSize += vsize
			if begin >= lastRecBegin {
				lastRecBegin, lastRecVsize = begin, vsize
			}
		} else if begin+vsize > end {
			end = begin + vsize
		}
	}
	if recSize > 0 && numrecs > 0 && !streaming {
		// A single record variable is not padded, so the last record ends
		// at begin + (numrecs-1)*recsize + vsize.
		if e := lastRecBegin + (numrecs-1)*recSize + lastRecVsize; e > end {
			end = e
		}
	}
	return end, nil
}
