// Package web is Parley's browser front end: static modules (recorder, player), the page
// templates and the metadata they render, all embedded in the binary. No build step: the
// files under static/ are served as they are.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"path"
	"sort"
	"sync"
)

//go:embed static templates
var files embed.FS

// Asset is one static file, ready to serve.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	Gzip        []byte // gzip-compressed Body; nil when compression does not make it smaller
	ETag        string // strong validator of Body, quoted
	GzipETag    string // strong validator of Gzip, quoted
}

type assetSet struct {
	byName  map[string]*Asset
	version string
}

var (
	loadOnce sync.Once
	assets   *assetSet
)

// load reads, hashes and compresses every embedded asset once.
func load() *assetSet {
	loadOnce.Do(func() {
		set, err := readAssets(files)
		if err != nil {
			panic("web: " + err.Error()) // the embedded files are part of the binary
		}
		assets = set
	})
	return assets
}

func readAssets(fsys fs.FS) (*assetSet, error) {
	set := &assetSet{byName: map[string]*Asset{}}
	static, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		a, err := readAsset(static, name)
		set.byName[name] = a
		return err
	})
	set.version = versionOf(set.byName)
	return set, err
}

func readAsset(fsys fs.FS, name string) (*Asset, error) {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read asset %s: %w", name, err)
	}
	a := &Asset{Name: name, ContentType: contentType(name), Body: body, ETag: etag(body)}
	if gz := compress(body); len(gz) < len(body) {
		a.Gzip, a.GzipETag = gz, etag(gz)
	}
	return a, nil
}

// contentType names the media type of an asset by its extension.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func compress(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// versionOf hashes every asset's name and ETag: it changes whenever any asset does.
func versionOf(byName map[string]*Asset) string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		io.WriteString(h, n+"\x00"+byName[n].ETag+"\x00")
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Lookup returns the asset with the given name (relative to static/, e.g. "player.js").
func Lookup(name string) (*Asset, bool) {
	a, ok := load().byName[name]
	return a, ok
}

// Version identifies the embedded asset set. Asset URLs carry it, so they can be cached
// for good: a new build has new URLs.
func Version() string { return load().version }

// StaticPrefix is the URL path the assets of this build are served under, ending in "/".
// Relative imports between the modules stay inside it.
func StaticPrefix() string { return "/static/" + Version() + "/" }
