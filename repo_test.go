// SPDX-License-Identifier: Apache-2.0

package mplsdp

import (
	"bytes"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepository checks what review would otherwise catch by eye: every Go file is
// gofmt-formatted and opens with an SPDX licence line.
func TestRepository(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := format.Source(src)
		if err != nil {
			t.Errorf("%s: %v", path, err)
		} else if !bytes.Equal(got, src) {
			t.Errorf("%s: not gofmt-formatted", path)
		}
		first, _, _ := bytes.Cut(src, []byte("\n"))
		if !bytes.Contains(first, []byte("SPDX-License-Identifier:")) && !bytes.Contains(src[:min(len(src), 300)], []byte("Code generated")) {
			t.Errorf("%s: first line is not an SPDX licence line", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
