package api

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image"
	_ "image/jpeg" // poster sizes for oEmbed thumbnails
	_ "image/png"  // waveform image sizes for oEmbed thumbnails
	"math"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"parley/media"
	"parley/web"
)

// Player sizes offered to embedders when a clip does not say better.
const (
	defaultVideoWidth  = 640
	defaultVideoHeight = 360
	audioPlayerWidth   = 560
	audioPlayerHeight  = 160
	// thumbnailProbe is how much of an image is read to learn its size.
	thumbnailProbe = 64 << 10
)

// pageRoutes serves the HTML pages, their assets, stable media links and oEmbed.
func (s *Server) pageRoutes(app *fiber.App) {
	app.Get("/static/:version/*", s.staticAsset)
	app.Get("/r/:token", s.recorderPage)
	app.Get("/c/:id", s.clipPage(web.SharePage, false))
	app.Get("/c/:id/peaks.json", s.clipPeaks)
	app.Get("/c/:id/captions.vtt", s.clipCaptions)
	app.Get("/c/:id/media/:name", s.clipMedia)
	app.Get("/embed/:id", s.clipPage(web.EmbedPage, true))
	app.Get("/oembed", s.oembed)
	s.threadPageRoutes(app)
}

// pagePolicy is what a page's security headers allow.
type pagePolicy struct {
	embeddable bool     // any site may frame it
	recorder   bool     // uses camera, microphone and screen; its URL is a secret
	fetchMedia bool     // reads media documents (waveforms of private clips) from the media origins
	origins    []string // where media comes from, besides this server
}

// setPageHeaders sets the security headers of an HTML page.
func setPageHeaders(c *fiber.Ctx, p pagePolicy) {
	ancestors := "'none'"
	if p.embeddable {
		ancestors = "*"
	} else {
		c.Set(fiber.HeaderXFrameOptions, "DENY")
	}
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy(ancestors, p.origins, p.fetchMedia))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "strict-origin-when-cross-origin")
	c.Set(fiber.HeaderPermissionsPolicy, "camera=(), microphone=(), display-capture=()")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if p.recorder {
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		c.Set(fiber.HeaderPermissionsPolicy, "camera=(self), microphone=(self), display-capture=(self)")
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
}

// contentSecurityPolicy allows scripts, styles and connections from this server only, and
// media and images also from the media origins (connections too when fetchMedia is set).
// Pages carry no inline script.
func contentSecurityPolicy(frameAncestors string, mediaOrigins []string, fetchMedia bool) string {
	m := strings.Join(append([]string{"'self'"}, mediaOrigins...), " ")
	connect := "'self'"
	if fetchMedia {
		connect = m
	}
	return strings.Join([]string{
		"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src data: " + m,
		"media-src blob: " + m, "connect-src " + connect, "worker-src 'self'", "object-src 'none'",
		"base-uri 'none'", "form-action 'self'", "frame-ancestors " + frameAncestors,
	}, "; ")
}

// renderPage writes a page template with its headers.
func renderPage(c *fiber.Ctx, status int, name string, p *web.Page, policy pagePolicy) error {
	var buf bytes.Buffer
	if err := web.Render(&buf, name, p); err != nil {
		return err
	}
	setPageHeaders(c, policy)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

// pageError answers a page request with an HTML page carrying the error's status and message.
func (s *Server) pageError(c *fiber.Ctx, err error) error {
	status, body := errorResponse(err)
	if status >= 500 {
		s.log().Error("page", "path", c.Path(), "err", err)
	}
	p := &web.Page{Title: "Parley", Heading: pageHeading(status), Message: body.Error.Message}
	return renderPage(c, status, web.MessagePage, p, pagePolicy{})
}

func pageHeading(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return "Not found"
	case fiber.StatusGone:
		return "This link no longer works"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return "This cannot be shown"
}

// staticAsset serves an embedded asset: cached for good under the current version, with an
// ETag, gzip-compressed when the client accepts it.
func (s *Server) staticAsset(c *fiber.Ctx) error {
	a, ok := web.Lookup(c.Params("*"))
	if !ok {
		return media.Errorf(media.ENOTFOUND, "no such asset")
	}
	body, tag := a.Body, a.ETag
	if a.Gzip != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		body, tag = a.Gzip, a.GzipETag
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	c.Vary(fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderETag, tag)
	c.Set(fiber.HeaderCacheControl, assetCacheControl(c.Params("version")))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentType, a.ContentType)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), tag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(body)
}

// assetCacheControl caches assets of this build for a year; a stale version's URL may be
// answered with newer content, so that is only cached briefly.
func assetCacheControl(version string) string {
	if version == web.Version() {
		return "public, max-age=31536000, immutable"
	}
	return "public, max-age=60"
}

func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// etagMatches reports whether an If-None-Match header names tag (weak comparison).
func etagMatches(header, tag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == tag {
			return true
		}
	}
	return false
}

// recorderData is what the recorder module learns from the page.
type recorderData struct {
	Token        string `json:"token"`
	WHIPURL      string `json:"whip_url"`
	Kind         string `json:"kind"`
	MaxDurationS int    `json:"max_duration_s"`
	Limited      bool   `json:"limited"`            // the link sets a limit: show the time left
	ThreadURL    string `json:"thread_url"`         // the link's thread as JSON (GET /r/{token}/thread)
	EventsURL    string `json:"events_url"`         // its live updates (Server-Sent Events)
	ReplyTo      string `json:"reply_to,omitempty"` // the clip every recording of this link answers
}

// recorderPage shows the recorder for a usable link, 410 with the reason for an expired,
// used-up or revoked one, and 404 for an unknown token.
func (s *Server) recorderPage(c *fiber.Ctx) error {
	token := c.Params("token")
	l, err := s.recorderLink(c.UserContext(), token)
	if err == nil {
		err = l.Usable(s.now())
	}
	if err != nil {
		return s.pageError(c, err)
	}
	origin, err := s.mediaOrigin(c.UserContext())
	if err != nil {
		return s.pageError(c, err)
	}
	maxS, limited := s.linkLimit(l)
	p := &web.Page{Title: "Record a clip · Parley", Heading: recorderHeading(l.Kind), Data: recorderData{
		Token: token, WHIPURL: "/whip", Kind: string(l.Kind), MaxDurationS: maxS, Limited: limited,
		ThreadURL: "/r/" + token + "/thread", EventsURL: "/r/" + token + "/events", ReplyTo: l.ReplyTo,
	}}
	return renderPage(c, fiber.StatusOK, web.RecorderPage, p, pagePolicy{recorder: true, origins: origin})
}

// recorderLink resolves a recorder-link token; unknown tokens are ENOTFOUND.
func (s *Server) recorderLink(ctx context.Context, token string) (*media.RecorderLink, error) {
	notFound := media.Errorf(media.ENOTFOUND, "This recorder link does not exist. Check that you copied the whole link.")
	if !strings.HasPrefix(token, media.LinkTokenPrefix+"_") {
		return nil, notFound
	}
	p, err := s.Service.Authenticate(ctx, token)
	if media.ErrorCode(err) == media.EUNAUTHORIZED || (err == nil && p.Link == nil) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	return p.Link, nil
}

func recorderHeading(k media.ClipKind) string {
	if k == media.KindAudio {
		return "Record a voice message"
	}
	return "Record a message"
}

// linkLimit returns the longest recording the link allows and whether the link itself sets it.
func (s *Server) linkLimit(l *media.RecorderLink) (int, bool) {
	serverMax := s.Service.MaxRecordingS
	if serverMax <= 0 {
		serverMax = 3600
	}
	if l.MaxDurationS > 0 && l.MaxDurationS < serverMax {
		return l.MaxDurationS, true
	}
	return serverMax, false
}

func (s *Server) now() time.Time {
	if s.Service.Now != nil {
		return s.Service.Now()
	}
	return time.Now()
}

// mediaOrigin returns the origin signed media URLs point at, learnt by signing a probe key.
func (s *Server) mediaOrigin(ctx context.Context) ([]string, error) {
	u, err := s.Blobs.SignedURL(ctx, media.OriginalKey("origin-probe", "webm"), time.Minute)
	if err != nil {
		return nil, fmt.Errorf("sign probe url: %w", err)
	}
	return origins(u), nil
}

// origins returns the distinct scheme://host of absolute URLs.
func origins(urls ...string) []string {
	var out []string
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// publicClip reads a clip that may be shown without credentials: unlisted clips are public
// to whoever has the link. Private clips are not found here.
func (s *Server) publicClip(ctx context.Context, id string) (*media.Clip, error) {
	notFound := media.Errorf(media.ENOTFOUND, "This clip does not exist or is not shared.")
	if !media.ValidID(id) {
		return nil, notFound
	}
	c, err := s.Service.Store.GetClip(ctx, id)
	if media.IsNotFound(err) || (err == nil && c.Privacy == media.Private) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("get clip %s: %w", id, err)
	}
	return c, nil
}

// clipData is what the share and embed pages hand their module.
type clipData struct {
	Clip     pageClip `json:"clip"`
	Peaks    string   `json:"peaks,omitempty"`    // same-origin URL of the waveform JSON
	Captions string   `json:"captions,omitempty"` // same-origin URL of the WebVTT captions
}

// pageClip is the part of a clip's API view a public page shows: no thread or workspace ids.
type pageClip struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Title      string    `json:"title"`
	DurationMS int64     `json:"duration_ms"`
	Width      int       `json:"width,omitempty"`
	Height     int       `json:"height,omitempty"`
	ShareURL   string    `json:"share_url"`
	EmbedURL   string    `json:"embed_url"`
	Media      mediaView `json:"media"`
}

func newPageClip(v *clipView) pageClip {
	return pageClip{ID: v.ID, Kind: v.Kind, Status: v.Status, Title: v.Title, DurationMS: v.DurationMS,
		Width: v.Width, Height: v.Height, ShareURL: v.ShareURL, EmbedURL: v.EmbedURL, Media: v.Media}
}

// clipPage serves the share page or the embed page of a clip.
func (s *Server) clipPage(name string, embeddable bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		clip, err := s.publicClip(c.UserContext(), c.Params("id"))
		if err != nil {
			return s.pageError(c, err)
		}
		view, err := s.clipView(c.UserContext(), clip)
		if err != nil {
			return s.pageError(c, err)
		}
		data := clipData{Clip: newPageClip(view)}
		if clip.Media.Waveform != "" {
			data.Peaks = "/c/" + clip.ID + "/peaks.json"
		}
		if clip.Media.Captions != "" {
			data.Captions = "/c/" + clip.ID + "/captions.vtt"
		}
		p := &web.Page{Title: clipTitle(clip), Data: data, Share: s.shareMeta(clip)}
		return renderPage(c, fiber.StatusOK, name, p, pagePolicy{embeddable: embeddable, origins: mediaOrigins(view.Media)})
	}
}

func mediaOrigins(m mediaView) []string {
	var urls []string
	for _, u := range []*string{m.Original, m.MP4, m.Audio, m.Poster, m.WaveformImage} {
		if u != nil {
			urls = append(urls, *u)
		}
	}
	return origins(urls...)
}

func clipTitle(c *media.Clip) string {
	if c.Title != "" {
		return c.Title
	}
	if c.Kind == media.KindAudio {
		return "Voice message"
	}
	return "Video message"
}

func describeClip(c *media.Clip) string {
	kind := "A video message"
	if c.Kind == media.KindAudio {
		kind = "A voice message"
	}
	switch {
	case c.Status == media.StatusRecording || (c.Status == media.StatusProcessing && c.Media.Original == ""):
		return kind + " on Parley, still being made"
	case c.DurationMS > 0:
		return fmt.Sprintf("%s on Parley · %s", kind, clockTime(c.DurationMS))
	}
	return kind + " on Parley"
}

func clockTime(ms int64) string {
	s := (ms + 500) / 1000
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// shareMeta is the unfurl metadata of a clip. Media links are the stable /c/{id}/media/…
// URLs: signed URLs expire, unfurls are cached for long.
func (s *Server) shareMeta(c *media.Clip) *web.ShareMeta {
	share := s.BaseURL + "/c/" + c.ID
	m := &web.ShareMeta{
		Title: clipTitle(c), Description: describeClip(c), URL: share, EmbedURL: s.BaseURL + "/embed/" + c.ID,
		OEmbedURL: s.BaseURL + "/oembed?" + url.Values{"url": {share}, "format": {"json"}}.Encode(),
	}
	m.PlayerWidth, m.PlayerHeight = playerSize(c)
	m.Width, m.Height = m.PlayerWidth, m.PlayerHeight
	if name, key := playable(c); key != "" {
		m.Video, m.VideoType = s.mediaURL(c.ID, name), mediaTypeOf(c.Kind, key)
		m.DurationS = (c.DurationMS + 500) / 1000
	}
	if name, key := thumbnail(c); key != "" {
		m.Image = s.mediaURL(c.ID, name)
	}
	return m
}

func (s *Server) mediaURL(clipID, name string) string {
	return s.BaseURL + "/c/" + clipID + "/media/" + name
}

// playerSize is the natural size of a clip's player: the video's own, or a strip for voice.
func playerSize(c *media.Clip) (int, int) {
	if c.Kind == media.KindAudio {
		return audioPlayerWidth, audioPlayerHeight
	}
	if c.Width > 0 && c.Height > 0 {
		return c.Width, c.Height
	}
	return defaultVideoWidth, defaultVideoHeight
}

// playable names the rendition a player or unfurler should fetch, and its key.
func playable(c *media.Clip) (string, string) {
	if c.Kind == media.KindAudio && c.Media.Audio != "" {
		return "audio", c.Media.Audio
	}
	if c.Media.MP4 != "" {
		return "mp4", c.Media.MP4
	}
	return "original", c.Media.Original
}

// thumbnail names the image that stands for a clip: its poster, or for voice its waveform.
func thumbnail(c *media.Clip) (string, string) {
	if c.Media.Poster != "" {
		return "poster", c.Media.Poster
	}
	return "waveform_image", c.Media.WaveformImage
}

// mediaTypeOf guesses a rendition's media type from its key.
func mediaTypeOf(kind media.ClipKind, key string) string {
	major := "video/"
	if kind == media.KindAudio {
		major = "audio/"
	}
	switch ext := strings.ToLower(path.Ext(key)); ext {
	case ".mp4", ".m4a":
		return major + "mp4"
	case ".webm", ".ogg":
		return major + ext[1:]
	case ".mkv":
		return major + "x-matroska"
	}
	return "application/octet-stream"
}

// mediaKey returns the key of a clip's rendition by its public name ("" if none).
func mediaKey(m media.MediaKeys, name string) string {
	switch name {
	case "original":
		return m.Original
	case "mp4":
		return m.MP4
	case "audio":
		return m.Audio
	case "poster":
		return m.Poster
	case "waveform_image":
		return m.WaveformImage
	}
	return ""
}

// clipMedia redirects a stable media link to a fresh signed URL.
func (s *Server) clipMedia(c *fiber.Ctx) error {
	clip, err := s.publicClip(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	key := mediaKey(clip.Media, c.Params("name"))
	if key == "" {
		return media.Errorf(media.ENOTFOUND, "clip %s has no %s", clip.ID, c.Params("name"))
	}
	u, err := s.signedURL(c.UserContext(), key, s.mediaTTL(clip.Privacy))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Redirect(*u, fiber.StatusFound)
}

// clipPeaks serves a clip's waveform JSON from this origin, so pages fetch it under
// connect-src 'self' and without CORS on the media store.
func (s *Server) clipPeaks(c *fiber.Ctx) error {
	return s.sameOriginFile(c, "waveform", func(m media.MediaKeys) string { return m.Waveform }, fiber.MIMEApplicationJSON)
}

// clipCaptions serves a clip's WebVTT captions from this origin: a <track> from another
// origin would need CORS on the media store.
func (s *Server) clipCaptions(c *fiber.Ctx) error {
	return s.sameOriginFile(c, "captions", func(m media.MediaKeys) string { return m.Captions }, "text/vtt; charset=utf-8")
}

// sameOriginFile streams one of a public clip's files (chosen by key) from this server.
func (s *Server) sameOriginFile(c *fiber.Ctx, what string, key func(media.MediaKeys) string, contentType string) error {
	clip, err := s.publicClip(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	k := key(clip.Media)
	if k == "" {
		return media.Errorf(media.ENOTFOUND, "clip %s has no %s yet", clip.ID, what)
	}
	r, err := s.Blobs.Get(c.UserContext(), k, 0, -1)
	if err != nil {
		return fmt.Errorf("get %s of clip %s: %w", what, clip.ID, err)
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.SendStream(r)
}

// oembedView is an oEmbed 1.0 response of type video.
type oembedView struct {
	Version         string `json:"version"`
	Type            string `json:"type"`
	Title           string `json:"title"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	ThumbnailURL    string `json:"thumbnail_url,omitempty"`
	ThumbnailWidth  int    `json:"thumbnail_width,omitempty"`
	ThumbnailHeight int    `json:"thumbnail_height,omitempty"`
}

// oembed answers GET /oembed?url=…&format=json&maxwidth=&maxheight= for this server's
// share and embed URLs.
func (s *Server) oembed(c *fiber.Ctx) error {
	if f := c.Query("format"); f != "" && f != "json" {
		return media.Errorf(media.EUNSUPPORTED, "format %q is not supported: use json", f)
	}
	id, err := s.oembedClipID(c.Query("url"))
	if err != nil {
		return err
	}
	maxW, maxH, err := oembedBounds(c.Query("maxwidth"), c.Query("maxheight"))
	if err != nil {
		return err
	}
	clip, err := s.publicClip(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(s.oembedView(c.UserContext(), clip, maxW, maxH))
}

// oembedClipID returns the clip id of a /c/{id} or /embed/{id} URL of this server.
func (s *Server) oembedClipID(raw string) (string, error) {
	if raw == "" {
		return "", media.Errorf(media.EINVALID, "url is required")
	}
	u, err := url.Parse(raw)
	base, _ := url.Parse(s.BaseURL)
	if err != nil || base == nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", media.Errorf(media.ENOTFOUND, "url is not a clip on this server")
	}
	for _, prefix := range []string{"/c/", "/embed/"} {
		if id, ok := strings.CutPrefix(u.Path, prefix); ok && media.ValidID(id) {
			return id, nil
		}
	}
	return "", media.Errorf(media.ENOTFOUND, "url is not a clip on this server")
}

// oembedBounds parses maxwidth and maxheight; 0 means no bound.
func oembedBounds(w, h string) (int, int, error) {
	var out [2]int
	for i, v := range []string{w, h} {
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, 0, media.Errorf(media.EINVALID, "maxwidth and maxheight must be positive integers")
		}
		out[i] = n
	}
	return out[0], out[1], nil
}

// fit scales w×h down, keeping the aspect ratio, to within maxW×maxH (0: unbounded).
func fit(w, h, maxW, maxH int) (int, int) {
	scale := 1.0
	if maxW > 0 && w > maxW {
		scale = float64(maxW) / float64(w)
	}
	if maxH > 0 && float64(h)*scale > float64(maxH) {
		scale = float64(maxH) / float64(h)
	}
	return max(1, int(math.Floor(float64(w)*scale))), max(1, int(math.Floor(float64(h)*scale)))
}

func (s *Server) oembedView(ctx context.Context, c *media.Clip, maxW, maxH int) *oembedView {
	w, h := playerSize(c)
	w, h = fit(w, h, maxW, maxH)
	title := clipTitle(c)
	v := &oembedView{
		Version: "1.0", Type: "video", Title: title, ProviderName: "Parley", ProviderURL: s.BaseURL,
		Width: w, Height: h, HTML: iframeHTML(s.BaseURL+"/embed/"+c.ID, title, w, h),
	}
	if name, key := thumbnail(c); key != "" {
		if cfg, err := s.imageConfig(ctx, key); err == nil {
			v.ThumbnailURL = s.mediaURL(c.ID, name)
			v.ThumbnailWidth, v.ThumbnailHeight = cfg.Width, cfg.Height
		}
	}
	return v
}

func iframeHTML(src, title string, w, h int) string {
	return fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" title="%s" frameborder="0" `+
		`allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`,
		html.EscapeString(src), w, h, html.EscapeString(title))
}

// imageConfig reads the size of a stored image from its first bytes.
func (s *Server) imageConfig(ctx context.Context, key string) (image.Config, error) {
	r, err := s.Blobs.Get(ctx, key, 0, thumbnailProbe)
	if err != nil {
		return image.Config{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer r.Close()
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return image.Config{}, fmt.Errorf("decode size of %s: %w", key, err)
	}
	return cfg, nil
}
