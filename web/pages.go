package web

import (
	"fmt"
	"html/template"
	"io"
)

// Page templates.
const (
	RecorderPage = "recorder.html" // record a clip through a recorder link
	SharePage    = "share.html"    // a clip with Open Graph/Twitter tags and oEmbed discovery
	EmbedPage    = "embed.html"    // only the player, full-frame, for iframes
	MessagePage  = "message.html"  // a status page: not found, gone, error
	ThreadPage   = "thread.html"   // a thread for workspace members (the API key is asked for)
)

// Page is what every page template renders.
type Page struct {
	Title   string
	Heading string // MessagePage: the headline
	Message string // MessagePage: the explanation
	Data    any    // JSON for the page's module, in <script type="application/json" id="parley-data">
	Share   *ShareMeta
	Static  string // URL prefix of the assets; Render fills it in
}

// ShareMeta is the unfurl metadata of a clip: Open Graph, Twitter player card and oEmbed.
type ShareMeta struct {
	Title        string
	Description  string
	URL          string // the share page itself
	Video        string // playable file (stable URL); "" if none yet
	VideoType    string // its media type
	Width        int
	Height       int
	Image        string // poster or waveform image; "" if none
	EmbedURL     string // iframe player
	DurationS    int64
	OEmbedURL    string // JSON oEmbed endpoint for URL
	PlayerWidth  int
	PlayerHeight int
}

var pages = template.Must(template.New("pages").ParseFS(files, "templates/*.html"))

// Render writes a page template with p.
func Render(w io.Writer, name string, p *Page) error {
	p.Static = StaticPrefix()
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}
