package api

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"parley/media"
)

// BenchmarkThreadReadLoad drives GET /api/v1/threads/{id} (10 ready clips, signed media
// URLs) over real HTTP from concurrent clients and reports requests/s and p99 latency;
// /healthz on the same server is the baseline. Run with -benchtime=1x.
func BenchmarkThreadReadLoad(b *testing.B) {
	e := newAPIEnv(b)
	for range 10 {
		e.clip(b, func(c *media.Clip) {
			c.Media.MP4 = e.put(b, media.RenditionKey(c.ID, "video.mp4"), "video/mp4", []byte("mp4"))
			c.Media.Poster = e.put(b, media.RenditionKey(c.ID, "poster.jpg"), "image/jpeg", []byte("jpg"))
		})
	}
	for b.Loop() {
		for _, target := range []struct{ name, path string }{{"healthz", "/healthz"}, {"thread", "/api/v1/threads/" + e.thread.ID}} {
			rps, p99 := load(b, e.base+target.path, e.admin, 32, 5*time.Second)
			b.ReportMetric(rps, target.name+"-req/s")
			b.ReportMetric(float64(p99.Microseconds())/1000, target.name+"-p99-ms")
		}
	}
}

// load sends GETs from n clients for d and returns the request rate and the 99th percentile latency.
func load(b *testing.B, url, token string, n int, d time.Duration) (float64, time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := get(b, client, url, token, deadline)
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return float64(len(lat)) / d.Seconds(), lat[len(lat)*99/100]
}

func get(b *testing.B, client *http.Client, url, token string, deadline time.Time) []time.Duration {
	var lat []time.Duration
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return lat
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s = %d", url, resp.StatusCode)
			return lat
		}
		lat = append(lat, time.Since(start))
	}
	return lat
}
