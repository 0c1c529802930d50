package sql_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"parley/media"
	"parley/media/mediatest"
	mediasql "parley/media/sql"
)

// t0 is a fixed time at the store's precision (microseconds).
var t0 = time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// sqliteDSN names a fresh SQLite database in a temporary directory.
func sqliteDSN(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "parley.db")
}

// backends lists the databases every contract test runs against; dsn returns a fresh one.
var backends = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{"sqlite", sqliteDSN},
	{"postgres", mediatest.PostgresURL},
}

func openMigrated(t testing.TB, dsn string) *mediasql.Store {
	t.Helper()
	s := openStore(t, dsn)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func openStore(t testing.TB, dsn string) *mediasql.Store {
	t.Helper()
	s, err := mediasql.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs the contract test against a fresh, migrated SQLite and PostgreSQL.
func eachBackend(t *testing.T, test func(t *testing.T, s *mediasql.Store)) {
	t.Helper()
	eachDSN(t, func(t *testing.T, dsn string) { test(t, openMigrated(t, dsn)) })
}

// eachDSN runs a test with a fresh database of each backend.
func eachDSN(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.dsn(t))
		})
	}
}

// wantCode fails unless err carries the domain error code.
func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	var me *media.Error
	if !errors.As(err, &me) || me.Code != code {
		t.Errorf("%s: error %v, want code %s", what, err, code)
	}
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func diff[T any](t testing.TB, what string, want, got T) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func TestWorkspaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		a := &media.Workspace{ID: "b-ws", Name: "Beta", RetentionDays: 30, CreatedAt: at(time.Second)}
		b := &media.Workspace{ID: "a-ws", Name: "Alpha", CreatedAt: at(2 * time.Second)}
		must(t, "CreateWorkspace", s.CreateWorkspace(ctx, a))
		must(t, "CreateWorkspace", s.CreateWorkspace(ctx, b))
		wantCode(t, "CreateWorkspace duplicate", s.CreateWorkspace(ctx, a), media.ECONFLICT)

		got, err := s.GetWorkspace(ctx, a.ID)
		must(t, "GetWorkspace", err)
		diff(t, "GetWorkspace", a, got)
		_, err = s.GetWorkspace(ctx, "nope")
		wantCode(t, "GetWorkspace missing", err, media.ENOTFOUND)

		a.Name, a.RetentionDays = "Beta 2", 0
		must(t, "UpdateWorkspace", s.UpdateWorkspace(ctx, a))
		wantCode(t, "UpdateWorkspace missing", s.UpdateWorkspace(ctx, &media.Workspace{ID: "nope"}), media.ENOTFOUND)
		all, err := s.ListWorkspaces(ctx)
		must(t, "ListWorkspaces", err)
		diff(t, "ListWorkspaces", []*media.Workspace{a, b}, all)
	})
}

func TestAPIKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		k1 := &media.APIKey{ID: "k1", WorkspaceID: "w", Name: "admin", Hash: "h1", Admin: true, CreatedAt: at(0)}
		k2 := &media.APIKey{ID: "k2", WorkspaceID: "w", Name: "ci", Hash: "h2", CreatedAt: at(time.Minute)}
		k3 := &media.APIKey{ID: "k3", WorkspaceID: "other", Hash: "h3", CreatedAt: at(0), RevokedAt: ptr(at(time.Hour))}
		for _, k := range []*media.APIKey{k1, k2, k3} {
			must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
		}
		wantCode(t, "CreateAPIKey same hash", s.CreateAPIKey(ctx, &media.APIKey{ID: "k4", Hash: "h1"}), media.ECONFLICT)
		wantCode(t, "CreateAPIKey same id", s.CreateAPIKey(ctx, &media.APIKey{ID: "k1", Hash: "h9"}), media.ECONFLICT)

		got, err := s.APIKeyByHash(ctx, "h3")
		must(t, "APIKeyByHash", err)
		diff(t, "APIKeyByHash revoked", k3, got)
		_, err = s.APIKeyByHash(ctx, "nope")
		wantCode(t, "APIKeyByHash missing", err, media.ENOTFOUND)

		must(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, "w", "k2", at(2*time.Hour)))
		must(t, "RevokeAPIKey again", s.RevokeAPIKey(ctx, "w", "k2", at(3*time.Hour)))
		wantCode(t, "RevokeAPIKey other workspace", s.RevokeAPIKey(ctx, "w", "k3", at(0)), media.ENOTFOUND)
		k2.RevokedAt = ptr(at(2 * time.Hour))
		keys, err := s.ListAPIKeys(ctx, "w")
		must(t, "ListAPIKeys", err)
		diff(t, "ListAPIKeys", []*media.APIKey{k1, k2}, keys)
	})
}

func TestThreadsAndTouch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		old := &media.Thread{ID: "t1", WorkspaceID: "w", Title: "old", LastActivityAt: at(time.Hour), CreatedAt: at(0)}
		mid := &media.Thread{ID: "t2", WorkspaceID: "w", LastActivityAt: at(2 * time.Hour), CreatedAt: at(0)}
		other := &media.Thread{ID: "t3", WorkspaceID: "x", LastActivityAt: at(0), CreatedAt: at(0)}
		for _, th := range []*media.Thread{old, mid, other} {
			must(t, "CreateThread", s.CreateThread(ctx, th))
		}
		wantCode(t, "CreateThread duplicate", s.CreateThread(ctx, old), media.ECONFLICT)

		must(t, "TouchThread", s.TouchThread(ctx, "t1", 1, 0, at(3*time.Hour)))
		must(t, "TouchThread back in time", s.TouchThread(ctx, "t1", 2, 5, at(time.Minute)))
		wantCode(t, "TouchThread missing", s.TouchThread(ctx, "nope", 1, 1, at(0)), media.ENOTFOUND)
		old.ClipCount, old.ReplyCount, old.LastActivityAt = 3, 5, at(3*time.Hour)
		got, err := s.GetThread(ctx, "t1")
		must(t, "GetThread", err)
		diff(t, "GetThread after touches", old, got)
		_, err = s.GetThread(ctx, "nope")
		wantCode(t, "GetThread missing", err, media.ENOTFOUND)

		tests := []struct {
			limit int
			want  []*media.Thread
		}{
			{0, []*media.Thread{old, mid}},
			{1, []*media.Thread{old}},
			{5, []*media.Thread{old, mid}},
		}
		for _, tt := range tests {
			got, err := s.ListThreads(ctx, "w", tt.limit)
			must(t, "ListThreads", err)
			diff(t, "ListThreads", tt.want, got)
		}
	})
}

func TestCommentsAndReactions(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		comments := []*media.Comment{
			{ID: "c2", WorkspaceID: "w", ThreadID: "t", Body: "hi", Author: "ann", CreatedAt: at(time.Second)},
			{ID: "c1", WorkspaceID: "w", ThreadID: "t", ClipID: "k", AtMS: ptr(int64(0)), Body: "at zero", CreatedAt: at(time.Second)},
			{ID: "c0", WorkspaceID: "w", ThreadID: "t", ClipID: "k", AtMS: ptr(int64(1500)), CreatedAt: at(2 * time.Second)},
		}
		for _, c := range comments {
			must(t, "CreateComment", s.CreateComment(ctx, c))
		}
		wantCode(t, "CreateComment duplicate", s.CreateComment(ctx, comments[0]), media.ECONFLICT)
		got, err := s.ListComments(ctx, "t")
		must(t, "ListComments", err)
		diff(t, "ListComments", []*media.Comment{comments[1], comments[0], comments[2]}, got)

		reactions := []*media.Reaction{
			{ID: "r1", WorkspaceID: "w", ClipID: "k", Emoji: "👍", Author: "bob", CreatedAt: at(0)},
			{ID: "r2", WorkspaceID: "w", ClipID: "k", Emoji: "🎉", AtMS: ptr(int64(42)), CreatedAt: at(time.Millisecond)},
		}
		for _, r := range reactions {
			must(t, "CreateReaction", s.CreateReaction(ctx, r))
		}
		wantCode(t, "CreateReaction duplicate", s.CreateReaction(ctx, reactions[1]), media.ECONFLICT)
		gotR, err := s.ListReactions(ctx, "k")
		must(t, "ListReactions", err)
		diff(t, "ListReactions", reactions, gotR)
		none, err := s.ListReactions(ctx, "nope")
		must(t, "ListReactions none", err)
		diff(t, "ListReactions none", 0, len(none))
	})
}

// fullClip returns a clip with every field set.
func fullClip(id, thread string, created time.Time) *media.Clip {
	return &media.Clip{
		ID: id, WorkspaceID: "w", ThreadID: thread, ReplyTo: "parent", ReplyAtMS: ptr(int64(1234)),
		LinkID: "link", Kind: media.KindAudio, Status: media.StatusProcessing, Privacy: media.Private,
		Title: "héllo 'quoted'", DurationMS: 61000, Width: 1280, Height: 720, Interrupted: true,
		Reason: "why", Media: media.MediaKeys{Original: "o.webm", MP4: "m.mp4", Audio: "a.m4a",
			Poster: "p.jpg", Waveform: "w.json", WaveformImage: "w.png", Storyboard: "s.jpg",
			StoryboardVTT: "s.vtt", Captions: "c.vtt"},
		CreatedAt: created, UpdatedAt: created.Add(time.Second), Version: 3,
	}
}

// bareClip returns a clip with only the required fields set.
func bareClip(id, workspace, thread string, created time.Time) *media.Clip {
	return &media.Clip{ID: id, WorkspaceID: workspace, ThreadID: thread, Kind: media.KindVideo,
		Status: media.StatusRecording, CreatedAt: created, UpdatedAt: created}
}

func TestClipRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		tests := []*media.Clip{
			fullClip("full", "t", at(0)),
			bareClip("bare", "w", "", at(0)),
			{ID: "zero"},
		}
		for _, c := range tests {
			must(t, "CreateClip", s.CreateClip(ctx, c))
			got, err := s.GetClip(ctx, c.ID)
			must(t, "GetClip", err)
			diff(t, "GetClip "+c.ID, c, got)
		}
		wantCode(t, "CreateClip duplicate", s.CreateClip(ctx, tests[0]), media.ECONFLICT)
		_, err := s.GetClip(ctx, "nope")
		wantCode(t, "GetClip missing", err, media.ENOTFOUND)
	})
}

func TestTimesRoundTripAtMicroseconds(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		berlin := time.FixedZone("CET", 3600)
		tests := []struct {
			name     string
			in, want time.Time
		}{
			{"nanoseconds truncated", time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)},
			{"zone becomes UTC", time.Date(2026, 1, 2, 3, 4, 5, 7000, berlin), time.Date(2026, 1, 2, 2, 4, 5, 7000, time.UTC)},
			{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
			{"zero", time.Time{}, time.Time{}},
		}
		for i, tt := range tests {
			l := &media.RecorderLink{ID: tt.name, TokenHash: tt.name, Kind: media.KindAny, CreatedAt: tt.in, ExpiresAt: &tt.in}
			must(t, "CreateRecorderLink", s.CreateRecorderLink(ctx, l))
			got, err := s.GetRecorderLink(ctx, l.ID)
			must(t, "GetRecorderLink", err)
			diff(t, tt.name, [2]time.Time{tt.want, tt.want}, [2]time.Time{got.CreatedAt, *got.ExpiresAt})
			diff(t, tt.name+": the created value is what Get returns", l, got)
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("%d %s: location %v, want UTC", i, tt.name, got.CreatedAt.Location())
			}
		}
	})
}

func TestThreadClipsOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		c3 := bareClip("c3", "w", "t", at(2*time.Second))
		c2 := bareClip("c2", "w", "t", at(time.Second))
		c1 := bareClip("c1", "w", "t", at(time.Second))
		elsewhere := bareClip("c0", "w", "u", at(0))
		for _, c := range []*media.Clip{c3, c2, c1, elsewhere} {
			must(t, "CreateClip", s.CreateClip(ctx, c))
		}
		got, err := s.ThreadClips(ctx, "t")
		must(t, "ThreadClips", err)
		diff(t, "ThreadClips", []*media.Clip{c1, c2, c3}, got)
		none, err := s.ThreadClips(ctx, "empty")
		must(t, "ThreadClips empty", err)
		diff(t, "ThreadClips empty", 0, len(none))
	})
}

func TestUpdateClip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		c := bareClip("c", "w", "t", at(0))
		must(t, "CreateClip", s.CreateClip(ctx, c))
		before := time.Now().Add(-time.Second)
		got, err := s.UpdateClip(ctx, "c", func(c *media.Clip) error {
			c.Media.Original, c.DurationMS, c.ReplyAtMS = "orig.webm", 5000, ptr(int64(7))
			return c.SetStatus(media.StatusProcessing)
		})
		must(t, "UpdateClip", err)
		if got.UpdatedAt.Before(before) || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt = %v, want about now in UTC", got.UpdatedAt)
		}
		want := *c
		want.Media.Original, want.DurationMS, want.ReplyAtMS = "orig.webm", 5000, ptr(int64(7))
		want.Status, want.Version, want.UpdatedAt = media.StatusProcessing, 1, got.UpdatedAt
		diff(t, "UpdateClip result", &want, got)
		stored, err := s.GetClip(ctx, "c")
		must(t, "GetClip", err)
		diff(t, "stored after UpdateClip", &want, stored)
	})
}

func TestUpdateClipErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		c := bareClip("c", "w", "t", at(0))
		must(t, "CreateClip", s.CreateClip(ctx, c))
		_, err := s.UpdateClip(ctx, "c", func(c *media.Clip) error {
			c.Title = "must not be written"
			return c.SetStatus(media.StatusReady) // recording → ready is not allowed
		})
		wantCode(t, "UpdateClip with failing fn", err, media.ECONFLICT)
		plain := errors.New("plain")
		_, err = s.UpdateClip(ctx, "c", func(*media.Clip) error { return plain })
		if !errors.Is(err, plain) {
			t.Errorf("UpdateClip error = %v, want fn's error", err)
		}
		stored, err := s.GetClip(ctx, "c")
		must(t, "GetClip", err)
		diff(t, "clip after failed updates", c, stored)

		called := false
		_, err = s.UpdateClip(ctx, "nope", func(*media.Clip) error { called = true; return nil })
		wantCode(t, "UpdateClip missing", err, media.ENOTFOUND)
		if called {
			t.Error("UpdateClip of a missing clip called fn")
		}
	})
}

func TestUpdateClipConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		must(t, "CreateClip", s.CreateClip(ctx, bareClip("c", "w", "t", at(0))))
		const n = 20
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := s.UpdateClip(ctx, "c", func(c *media.Clip) error {
					c.DurationMS++
					return nil
				})
				errs <- err
			}()
		}
		for range n {
			must(t, "concurrent UpdateClip", <-errs)
		}
		got, err := s.GetClip(ctx, "c")
		must(t, "GetClip", err)
		diff(t, "DurationMS and Version after concurrent increments", [2]int64{n, n}, [2]int64{got.DurationMS, got.Version})
	})
}

func TestClipsByStatus(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		mk := func(id string, status media.ClipStatus, updated time.Time) *media.Clip {
			c := bareClip(id, "w", "t", at(0))
			c.Status, c.UpdatedAt = status, updated
			must(t, "CreateClip", s.CreateClip(ctx, c))
			return c
		}
		p3 := mk("p3", media.StatusProcessing, at(3*time.Minute))
		p1 := mk("p1", media.StatusProcessing, at(time.Minute))
		p2 := mk("p2", media.StatusProcessing, at(2*time.Minute))
		mk("r1", media.StatusReady, at(0))
		tests := []struct {
			name   string
			before time.Time
			limit  int
			want   []*media.Clip
		}{
			{"all before", at(time.Hour), 0, []*media.Clip{p1, p2, p3}},
			{"limited", at(time.Hour), 2, []*media.Clip{p1, p2}},
			{"strictly before", at(2 * time.Minute), 10, []*media.Clip{p1}},
			{"none", at(0), 10, nil},
		}
		for _, tt := range tests {
			got, err := s.ClipsByStatus(ctx, media.StatusProcessing, tt.before, tt.limit)
			must(t, "ClipsByStatus", err)
			diff(t, "ClipsByStatus "+tt.name, tt.want, got)
		}
	})
}

func TestClipsCreatedBefore(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		var clips []*media.Clip
		for i, id := range []string{"a", "b", "c"} {
			c := bareClip(id, "w", "t", at(time.Duration(i)*time.Hour))
			clips = append(clips, c)
			must(t, "CreateClip", s.CreateClip(ctx, c))
		}
		must(t, "CreateClip other workspace", s.CreateClip(ctx, bareClip("x", "other", "t", at(0))))
		tests := []struct {
			name   string
			before time.Time
			limit  int
			want   []*media.Clip
		}{
			{"all", at(24 * time.Hour), 0, clips},
			{"limited", at(24 * time.Hour), 1, clips[:1]},
			{"strictly before", at(time.Hour), 10, clips[:1]},
		}
		for _, tt := range tests {
			got, err := s.ClipsCreatedBefore(ctx, "w", tt.before, tt.limit)
			must(t, "ClipsCreatedBefore", err)
			diff(t, "ClipsCreatedBefore "+tt.name, tt.want, got)
		}
	})
}

func TestDeleteClip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		must(t, "CreateClip", s.CreateClip(ctx, bareClip("gone", "w", "t", at(0))))
		reply := bareClip("reply", "w", "t", at(time.Second))
		reply.ReplyTo = "gone"
		must(t, "CreateClip", s.CreateClip(ctx, reply))
		must(t, "CreateReaction", s.CreateReaction(ctx, &media.Reaction{ID: "r", ClipID: "gone", Emoji: "x", CreatedAt: at(0)}))
		must(t, "CreateReaction", s.CreateReaction(ctx, &media.Reaction{ID: "r2", ClipID: "reply", Emoji: "x", CreatedAt: at(0)}))
		keep := &media.Comment{ID: "keep", ThreadID: "t", Body: "on thread", CreatedAt: at(0)}
		must(t, "CreateComment", s.CreateComment(ctx, keep))
		must(t, "CreateComment", s.CreateComment(ctx, &media.Comment{ID: "drop", ThreadID: "t", ClipID: "gone", CreatedAt: at(0)}))

		must(t, "DeleteClip", s.DeleteClip(ctx, "gone"))
		wantCode(t, "DeleteClip again", s.DeleteClip(ctx, "gone"), media.ENOTFOUND)
		_, err := s.GetClip(ctx, "gone")
		wantCode(t, "GetClip deleted", err, media.ENOTFOUND)
		clips, err := s.ThreadClips(ctx, "t")
		must(t, "ThreadClips", err)
		diff(t, "ThreadClips after delete", []*media.Clip{reply}, clips)
		comments, err := s.ListComments(ctx, "t")
		must(t, "ListComments", err)
		diff(t, "comments after delete", []*media.Comment{keep}, comments)
		r1, _ := s.ListReactions(ctx, "gone")
		r2, _ := s.ListReactions(ctx, "reply")
		diff(t, "reactions left (deleted clip, reply)", [2]int{0, 1}, [2]int{len(r1), len(r2)})
	})
}

func TestDeleteThread(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		for _, id := range []string{"t", "u"} {
			must(t, "CreateThread", s.CreateThread(ctx, &media.Thread{ID: id, WorkspaceID: "w", CreatedAt: at(0)}))
			must(t, "CreateClip", s.CreateClip(ctx, bareClip("clip-"+id, "w", id, at(0))))
			must(t, "CreateComment", s.CreateComment(ctx, &media.Comment{ID: "com-" + id, ThreadID: id, CreatedAt: at(0)}))
			must(t, "CreateReaction", s.CreateReaction(ctx, &media.Reaction{ID: "re-" + id, ClipID: "clip-" + id, CreatedAt: at(0)}))
		}
		must(t, "DeleteThread", s.DeleteThread(ctx, "t"))
		wantCode(t, "DeleteThread again", s.DeleteThread(ctx, "t"), media.ENOTFOUND)
		_, err := s.GetThread(ctx, "t")
		wantCode(t, "GetThread deleted", err, media.ENOTFOUND)
		_, err = s.GetClip(ctx, "clip-t")
		wantCode(t, "GetClip of deleted thread", err, media.ENOTFOUND)
		counts := func(thread string) [3]int {
			clips, err1 := s.ThreadClips(ctx, thread)
			comments, err2 := s.ListComments(ctx, thread)
			reactions, err3 := s.ListReactions(ctx, "clip-"+thread)
			must(t, "list", errors.Join(err1, err2, err3))
			return [3]int{len(clips), len(comments), len(reactions)}
		}
		diff(t, "rows of deleted thread", [3]int{0, 0, 0}, counts("t"))
		diff(t, "rows of other thread", [3]int{1, 1, 1}, counts("u"))
	})
}

func TestRecorderLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		l1 := &media.RecorderLink{ID: "l1", WorkspaceID: "w", TokenHash: "h1", ThreadID: "t", ReplyTo: "c",
			Kind: media.KindAudio, MaxDurationS: 60, ExpiresAt: ptr(at(time.Hour)), MaxUses: 2, CreatedAt: at(0)}
		l2 := &media.RecorderLink{ID: "l2", WorkspaceID: "w", TokenHash: "h2", Kind: media.KindAny, CreatedAt: at(time.Second)}
		must(t, "CreateRecorderLink", s.CreateRecorderLink(ctx, l1))
		must(t, "CreateRecorderLink", s.CreateRecorderLink(ctx, l2))
		wantCode(t, "CreateRecorderLink same hash", s.CreateRecorderLink(ctx, &media.RecorderLink{ID: "l3", TokenHash: "h1"}), media.ECONFLICT)

		got, err := s.RecorderLinkByTokenHash(ctx, "h1")
		must(t, "RecorderLinkByTokenHash", err)
		diff(t, "RecorderLinkByTokenHash", l1, got)
		_, err = s.RecorderLinkByTokenHash(ctx, "nope")
		wantCode(t, "RecorderLinkByTokenHash missing", err, media.ENOTFOUND)
		_, err = s.GetRecorderLink(ctx, "nope")
		wantCode(t, "GetRecorderLink missing", err, media.ENOTFOUND)

		wantCode(t, "RevokeRecorderLink other workspace", s.RevokeRecorderLink(ctx, "x", "l2", at(0)), media.ENOTFOUND)
		must(t, "RevokeRecorderLink", s.RevokeRecorderLink(ctx, "w", "l2", at(time.Minute)))
		must(t, "RevokeRecorderLink again", s.RevokeRecorderLink(ctx, "w", "l2", at(time.Hour)))
		l2.RevokedAt = ptr(at(time.Minute))
		links, err := s.ListRecorderLinks(ctx, "w")
		must(t, "ListRecorderLinks", err)
		diff(t, "ListRecorderLinks", []*media.RecorderLink{l1, l2}, links)
	})
}

func TestUseRecorderLink(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		links := []*media.RecorderLink{
			{ID: "twice", TokenHash: "1", MaxUses: 2, ExpiresAt: ptr(at(time.Hour)), CreatedAt: at(0)},
			{ID: "revoked", TokenHash: "2", RevokedAt: ptr(at(0)), CreatedAt: at(0)},
			{ID: "unlimited", TokenHash: "3", CreatedAt: at(0)},
		}
		for _, l := range links {
			must(t, "CreateRecorderLink", s.CreateRecorderLink(ctx, l))
		}
		tests := []struct {
			id       string
			now      time.Time
			wantCode string // "" for success
			wantUses int
		}{
			{"twice", at(0), "", 1},
			{"twice", at(time.Hour), media.EGONE, 0}, // expired exactly at ExpiresAt
			{"twice", at(time.Hour - time.Microsecond), "", 2},
			{"twice", at(0), media.EGONE, 0}, // used up
			{"revoked", at(0), media.EGONE, 0},
			{"unlimited", at(0), "", 1},
			{"unlimited", at(1000 * time.Hour), "", 2},
			{"missing", at(0), media.ENOTFOUND, 0},
		}
		for i, tt := range tests {
			l, err := s.UseRecorderLink(ctx, tt.id, tt.now)
			if tt.wantCode != "" {
				wantCode(t, tt.id, err, tt.wantCode)
				continue
			}
			if err != nil {
				t.Fatalf("%d UseRecorderLink(%s): %v", i, tt.id, err)
			}
			diff(t, "uses of "+tt.id, tt.wantUses, l.Uses)
		}
		_, err := s.UseRecorderLink(ctx, "twice", at(0))
		if msg := media.ErrorMessage(err); msg != "this recorder link has been used up" {
			t.Errorf("used-up message = %q", msg)
		}
	})
}

func TestUseRecorderLinkRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		const n, maxUses = 25, 7
		must(t, "CreateRecorderLink", s.CreateRecorderLink(ctx, &media.RecorderLink{ID: "l", TokenHash: "h", MaxUses: maxUses, CreatedAt: at(0)}))
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := s.UseRecorderLink(ctx, "l", at(time.Second))
				errs <- err
			}()
		}
		ok := 0
		for range n {
			err := <-errs
			if err == nil {
				ok++
			} else if media.ErrorCode(err) != media.EGONE {
				t.Errorf("UseRecorderLink: %v, want success or EGONE", err)
			}
		}
		l, err := s.GetRecorderLink(ctx, "l")
		must(t, "GetRecorderLink", err)
		diff(t, "successful uses and stored uses", [2]int{maxUses, maxUses}, [2]int{ok, l.Uses})
	})
}

func TestWebhooks(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		hooks := []*media.Webhook{
			{ID: "all", WorkspaceID: "w", URL: "https://a.example/h", Secret: "whsec_a", CreatedAt: at(0)},
			{ID: "empty", WorkspaceID: "w", URL: "https://b.example/h", Events: []string{}, CreatedAt: at(time.Second)},
			{ID: "some", WorkspaceID: "w", URL: "https://c.example/h", Events: []string{media.EventClipReady, media.EventThreadReply}, CreatedAt: at(2 * time.Second)},
		}
		for _, h := range hooks {
			must(t, "CreateWebhook", s.CreateWebhook(ctx, h))
			got, err := s.GetWebhook(ctx, h.ID)
			must(t, "GetWebhook", err)
			diff(t, "GetWebhook "+h.ID, h, got)
		}
		wantCode(t, "CreateWebhook duplicate", s.CreateWebhook(ctx, hooks[0]), media.ECONFLICT)
		_, err := s.GetWebhook(ctx, "nope")
		wantCode(t, "GetWebhook missing", err, media.ENOTFOUND)

		hooks[0].URL, hooks[0].Events = "https://a.example/v2", []string{media.EventClipFailed}
		must(t, "UpdateWebhook", s.UpdateWebhook(ctx, hooks[0]))
		wantCode(t, "UpdateWebhook other workspace", s.UpdateWebhook(ctx, &media.Webhook{ID: "all", WorkspaceID: "x"}), media.ENOTFOUND)
		wantCode(t, "DeleteWebhook other workspace", s.DeleteWebhook(ctx, "x", "empty"), media.ENOTFOUND)
		must(t, "DeleteWebhook", s.DeleteWebhook(ctx, "w", "empty"))
		wantCode(t, "DeleteWebhook again", s.DeleteWebhook(ctx, "w", "empty"), media.ENOTFOUND)
		got, err := s.ListWebhooks(ctx, "w")
		must(t, "ListWebhooks", err)
		diff(t, "ListWebhooks", []*media.Webhook{hooks[0], hooks[2]}, got)
	})
}

func TestEventsAndDeliveries(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *mediasql.Store) {
		ctx := context.Background()
		events := []*media.Event{
			{ID: "e1", WorkspaceID: "w", Type: media.EventClipReady, Payload: []byte(`{"clip":"c","n":"ü"}`), CreatedAt: at(0)},
			{ID: "e2", WorkspaceID: "w", Type: media.EventClipFailed, CreatedAt: at(0)},
		}
		for _, e := range events {
			isNew, err := s.CreateEvent(ctx, e)
			must(t, "CreateEvent", err)
			again, err := s.CreateEvent(ctx, &media.Event{ID: e.ID, Type: "other", CreatedAt: at(time.Hour)})
			must(t, "CreateEvent again", err)
			diff(t, "CreateEvent new, then again", [2]bool{true, false}, [2]bool{isNew, again})
			got, err := s.GetEvent(ctx, e.ID)
			must(t, "GetEvent", err)
			diff(t, "GetEvent "+e.ID, e, got)
		}
		_, err := s.GetEvent(ctx, "nope")
		wantCode(t, "GetEvent missing", err, media.ENOTFOUND)

		ds := []*media.Delivery{
			{ID: "d2", EventID: "e1", WebhookID: "h", Attempt: 2, StatusCode: 200, CreatedAt: at(time.Minute)},
			{ID: "d1", EventID: "e1", WebhookID: "h", Attempt: 1, Error: "connection refused", CreatedAt: at(0)},
			{ID: "d3", EventID: "e2", WebhookID: "h", Attempt: 1, StatusCode: 500, CreatedAt: at(0)},
		}
		for _, d := range ds {
			must(t, "CreateDelivery", s.CreateDelivery(ctx, d))
		}
		wantCode(t, "CreateDelivery duplicate", s.CreateDelivery(ctx, ds[0]), media.ECONFLICT)
		got, err := s.ListDeliveries(ctx, "e1")
		must(t, "ListDeliveries", err)
		diff(t, "ListDeliveries", []*media.Delivery{ds[1], ds[0]}, got)
	})
}
