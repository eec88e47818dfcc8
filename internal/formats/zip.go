package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"path"
	"strings"
)

// centralHeader starts each entry of a zip's central directory.
var centralHeader = []byte("PK\x01\x02")

// archive is an uploaded zip with what has been inflated from it so far.
type archive struct {
	name     string
	zr       *zip.Reader
	lim      Limits
	expanded int64 // bytes inflated from all members
}

// openZip opens a zip archive within the limits on entries and declared
// sizes.
func openZip(name string, data []byte, lim Limits) (*archive, error) {
	lim = lim.WithDefaults()
	// zip.NewReader builds a File for every central directory entry before
	// anything can count them; each entry starts with centralHeader, so
	// counting those bounds what it would build.
	if n := bytes.Count(data, centralHeader); n > lim.MaxEntries {
		return nil, limitError(name, -1, "", "more than %d files in the archive (the limit per archive)", lim.MaxEntries)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fileError(name, "not a readable zip archive (truncated or damaged?): %v", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, limitError(name, -1, "", "more than %d files in the archive (the limit per archive)", lim.MaxEntries)
	}
	// Declared sizes are not trusted for reading (members are counted as
	// they inflate), but one already over the limit need not be inflated.
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > uint64(lim.MaxExpandedTotal) {
		return nil, limitError(name, -1, "", "expands to more than %s (the limit per archive)", BytesText(lim.MaxExpandedTotal))
	}
	return &archive{name: name, zr: zr, lim: lim}, nil
}

// open returns a reader of member f that inflates as it is read and fails
// past the expanded-bytes limits. Its errors are *zone.Errors (a limit, or
// a damaged member) or io.EOF.
func (a *archive) open(f *zip.File) (*memberReader, error) {
	file := a.name + ": " + f.Name
	if f.UncompressedSize64 > uint64(a.lim.MaxExpandedBytes) {
		return nil, limitError(file, -1, "", "expands to more than %s (the limit per zip member)", BytesText(a.lim.MaxExpandedBytes))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fileError(file, "cannot open in the archive: %v", err)
	}
	return &memberReader{a: a, file: file, rc: rc, size: int64(f.UncompressedSize64)}, nil
}

// readAll reads a whole (small) member: .prj, .cpg.
func (a *archive) readAll(f *zip.File) ([]byte, error) {
	m, err := a.open(f)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(m.size, 64<<10))) // the declared size, trusted only this far
	if _, err := buf.ReadFrom(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// memberReader counts the bytes one member inflates to.
type memberReader struct {
	a    *archive
	file string // "site.zip: site.shp"
	rc   io.ReadCloser
	size int64 // as declared: archive/zip fails a member that inflates to more or less
	n    int64
	err  error
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	// Never ask for more than one byte past either limit, so crossing one
	// costs no more inflating than that.
	room := min(m.a.lim.MaxExpandedBytes-m.n, m.a.lim.MaxExpandedTotal-m.a.expanded) + 1
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := m.rc.Read(p)
	m.n += int64(n)
	m.a.expanded += int64(n)
	switch {
	case m.n > m.a.lim.MaxExpandedBytes:
		m.err = limitError(m.file, -1, "", "expands to more than %s (the limit per zip member)", BytesText(m.a.lim.MaxExpandedBytes))
	case m.a.expanded > m.a.lim.MaxExpandedTotal:
		m.err = limitError(m.a.name, -1, "", "expands to more than %s (the limit per archive)", BytesText(m.a.lim.MaxExpandedTotal))
	case err != nil && !errors.Is(err, io.EOF):
		m.err = fileError(m.file, "cannot read from the archive (truncated or damaged?): %v", err)
	default:
		return n, err
	}
	return 0, m.err
}

func (m *memberReader) Close() error { return m.rc.Close() }

// drain reads the member to its end, so archive/zip checks its size and
// checksum as it did when members were read whole.
func (m *memberReader) drain() error {
	_, err := io.Copy(io.Discard, m)
	return err
}

// zipMembers lists the archive's real files: no directories, no macOS
// resource forks.
func zipMembers(zr *zip.Reader) []*zip.File {
	var out []*zip.File
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(base, "._") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// zipHasKML reports whether data is a zip holding a .kml. An archive over
// the default entry limit is not opened: decoding it as a shapefile then
// refuses it.
func zipHasKML(data []byte) bool {
	if bytes.Count(data, centralHeader) > MaxZipEntries {
		return false
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zipMembers(zr) {
		if strings.EqualFold(path.Ext(f.Name), ".kml") {
			return true
		}
	}
	return false
}
