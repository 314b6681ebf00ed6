package codec

import "unsafe"

// HDF5's shuffle filter stores the first bytes of every element of a
// chunk, then the second bytes, and so on. Undoing it is a transpose of a
// (size x n) byte matrix; for 2- and 4-byte elements eight elements are
// transposed at a time in 64-bit registers (unaligned loads and stores,
// which the platforms Go runs netCDF on allow), a byte loop does the rest.

const (
	m8  = 0x00FF00FF00FF00FF
	m16 = 0x0000FFFF0000FFFF
	m32 = 0xFFFFFFFF00000000
)

func load(p unsafe.Pointer, off int) uint64     { return *(*uint64)(unsafe.Add(p, off)) }
func store(p unsafe.Pointer, off int, x uint64) { *(*uint64)(unsafe.Add(p, off)) = x }

// Unshuffle undoes HDF5's shuffle filter: src holds the first bytes of
// every element, then the second bytes, and so on; dst (as long as src)
// gets the elements of size bytes back. A tail shorter than one element is
// copied as is.
func Unshuffle(dst, src []byte, size int) {
	dst = dst[:len(src)]
	if size <= 1 {
		copy(dst, src)
		return
	}
	n := len(src) / size
	i := 0
	if n >= 8 && (size == 2 || size == 4) {
		s, d := unsafe.Pointer(&src[0]), unsafe.Pointer(&dst[0])
		for ; i+8 <= n; i += 8 {
			if size == 2 {
				x0, x1 := load(s, i), load(s, n+i)
				t0 := x0&m8 | (x1&m8)<<8  // elements 0, 2, 4, 6
				t1 := (x0>>8)&m8 | x1&^m8 // elements 1, 3, 5, 7
				store(d, 2*i, spread16(uint32(t0))|spread16(uint32(t1))<<16)
				store(d, 2*i+8, spread16(uint32(t0>>32))|spread16(uint32(t1>>32))<<16)
				continue
			}
			x0, x1, x2, x3 := load(s, i), load(s, n+i), load(s, 2*n+i), load(s, 3*n+i)
			t0 := x0&m8 | (x1&m8)<<8 // bytes 0 and 1 of elements 0, 2, 4, 6
			t1 := (x0>>8)&m8 | x1&^m8
			t2 := x2&m8 | (x3&m8)<<8 // bytes 2 and 3
			t3 := (x2>>8)&m8 | x3&^m8
			u0 := t0&m16 | (t2&m16)<<16 // elements 0 and 4
			u1 := (t0>>16)&m16 | t2&^m16
			u2 := t1&m16 | (t3&m16)<<16 // elements 1 and 5
			u3 := (t1>>16)&m16 | t3&^m16
			store(d, 4*i, u0&^m32|u2<<32)
			store(d, 4*i+8, u1&^m32|u3<<32)
			store(d, 4*i+16, u0>>32|u2&m32)
			store(d, 4*i+24, u1>>32|u3&m32)
		}
	}
	for j := range size {
		plane := src[j*n : (j+1)*n]
		for k := i; k < n; k++ {
			dst[k*size+j] = plane[k]
		}
	}
	copy(dst[n*size:], src[n*size:])
}

// Shuffle applies HDF5's shuffle filter: the inverse of Unshuffle.
func Shuffle(dst, src []byte, size int) {
	dst = dst[:len(src)]
	if size <= 1 {
		copy(dst, src)
		return
	}
	n := len(src) / size
	i := 0
	if n >= 8 && (size == 2 || size == 4) {
		s, d := unsafe.Pointer(&src[0]), unsafe.Pointer(&dst[0])
		for ; i+8 <= n; i += 8 {
			if size == 2 {
				w0, w1 := load(s, 2*i), load(s, 2*i+8)
				e0 := pack16(w0)             // elements 0, 2 | 1, 3 as 16-bit units
				e1 := pack16(w1)             // elements 4, 6 | 5, 7
				t0 := e0&0xFFFFFFFF | e1<<32 // 0, 2, 4, 6
				t1 := e0>>32 | e1&m32        // 1, 3, 5, 7
				store(d, i, t0&m8|(t1&m8)<<8)
				store(d, n+i, (t0>>8)&m8|t1&^m8)
				continue
			}
			w0, w1, w2, w3 := load(s, 4*i), load(s, 4*i+8), load(s, 4*i+16), load(s, 4*i+24)
			u0 := w0&^m32 | w2<<32 // elements 0 and 4
			u1 := w1&^m32 | w3<<32 // 2 and 6
			u2 := w0>>32 | w2&m32  // 1 and 5
			u3 := w1>>32 | w3&m32  // 3 and 7
			t0 := u0&m16 | (u1&m16)<<16
			t2 := (u0>>16)&m16 | u1&^m16
			t1 := u2&m16 | (u3&m16)<<16
			t3 := (u2>>16)&m16 | u3&^m16
			store(d, i, t0&m8|(t1&m8)<<8)
			store(d, n+i, (t0>>8)&m8|t1&^m8)
			store(d, 2*n+i, t2&m8|(t3&m8)<<8)
			store(d, 3*n+i, (t2>>8)&m8|t3&^m8)
		}
	}
	for j := range size {
		plane := dst[j*n : (j+1)*n]
		for k := i; k < n; k++ {
			plane[k] = src[k*size+j]
		}
	}
	copy(dst[n*size:], src[n*size:])
}

// spread16 moves the two 16-bit halves of x to the low halves of the two
// 32-bit words of the result.
func spread16(x uint32) uint64 {
	y := uint64(x)
	return (y | y<<16) & m16
}

// pack16 gathers the even 16-bit units of w (elements 0 and 2 of four) in
// the low 32 bits and the odd ones (1 and 3) in the high 32 bits.
func pack16(w uint64) uint64 {
	even := w & m16
	even = (even | even>>16) & 0xFFFFFFFF
	odd := (w >> 16) & m16
	odd = (odd | odd>>16) & 0xFFFFFFFF
	return even | odd<<32
}
