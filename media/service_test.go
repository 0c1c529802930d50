package media_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"parley/media"
	"parley/media/mediatest"
	sqlstore "parley/media/sql"
	"parley/worker"
)

// redisDB is this package's Redis database; its tests flush it.
const redisDB = 11

type env struct {
	svc   *media.Service
	store *sqlstore.Store
	insp  *asynq.Inspector
	rdb   asynq.RedisClientOpt
	now   time.Time
	admin media.Principal
}

// MustEnv returns a service over a fresh SQLite store and the real queue on Redis.
func MustEnv(t *testing.T) *env {
	t.Helper()
	st := mediatest.SQLiteStore(t)
	rdb := asynq.RedisClientOpt{Addr: mediatest.RedisAddr(t), DB: redisDB}
	client := asynq.NewClient(rdb)
	insp := asynq.NewInspector(rdb)
	t.Cleanup(func() { client.Close(); insp.Close() })
	e := &env{store: st, insp: insp, rdb: rdb, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	e.svc = media.NewService(st, worker.NewQueue(client))
	e.svc.Now = func() time.Time { return e.now }
	e.admin = e.MustWorkspace(t, "w1")
	return e
}

// MustWorkspace creates a workspace with an admin key and returns its principal.
func (e *env) MustWorkspace(t *testing.T, id string) media.Principal {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.EnsureWorkspace(ctx, id, id); err != nil {
		t.Fatalf("workspace: %v", err)
	}
	_, token, err := e.svc.CreateAPIKey(ctx, id, "admin", true)
	if err != nil {
		t.Fatalf("api key: %v", err)
	}
	p, err := e.svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

// MustLink creates a recorder link and returns its token.
func (e *env) MustLink(t *testing.T, req media.LinkRequest) string {
	t.Helper()
	_, token, err := e.svc.CreateRecorderLink(context.Background(), e.admin, req)
	if err != nil {
		t.Fatalf("create link: %v", err)
	}
	return token
}

// MustGuest authenticates a recorder-link token, as every request does.
func (e *env) MustGuest(t *testing.T, token string) media.Principal {
	t.Helper()
	p, err := e.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("authenticate link: %v", err)
	}
	return p
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return media.ErrorCode(err)
}

func TestAuthenticate(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	k, token, _ := e.svc.CreateAPIKey(ctx, "w1", "ci", false)
	tests := []struct {
		name, token, want string
	}{
		{"valid key", token, ""},
		{"empty", "", media.EUNAUTHORIZED},
		{"forged key", "pk_" + media.NewID(), media.EUNAUTHORIZED},
		{"forged link", "rl_" + media.NewID(), media.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Authenticate(ctx, tt.token)
			if diff := cmp.Diff(tt.want, code(err)); diff != "" {
				t.Errorf("Authenticate (-want +got):\n%s", diff)
			}
		})
	}
	if err := e.store.RevokeAPIKey(ctx, "w1", k.ID, e.now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, token); code(err) != media.EUNAUTHORIZED {
		t.Errorf("revoked key: %v, want unauthorized", err)
	}
}

func TestGuestsOnlyRecord(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	th, _ := e.svc.CreateThread(ctx, e.admin, "t")
	guest := e.MustGuest(t, e.MustLink(t, media.LinkRequest{ThreadID: th.ID, Kind: media.KindAny}))
	other, _ := e.svc.CreateThread(ctx, e.admin, "other")
	_, _, readErr := e.svc.Thread(ctx, guest, th.ID)
	_, createErr := e.svc.CreateThread(ctx, guest, "mine")
	_, _, linkErr := e.svc.CreateRecorderLink(ctx, guest, media.LinkRequest{Kind: media.KindAny})
	_, _, elsewhereErr := e.svc.StartRecording(ctx, guest, media.RecordingRequest{ThreadID: other.ID, Kind: media.KindVideo})
	got := []string{code(readErr), code(createErr), code(linkErr), code(elsewhereErr)}
	want := []string{media.EFORBIDDEN, media.EFORBIDDEN, media.EFORBIDDEN, media.EFORBIDDEN}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("guest actions (-want +got):\n%s", diff)
	}
}

func TestThreadLinkAnswersClipsOfItsThreadOnly(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	th, _ := e.svc.CreateThread(ctx, e.admin, "t")
	root, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{ThreadID: th.ID, Kind: media.KindVideo})
	elsewhere, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{Kind: media.KindVideo})
	token := e.MustLink(t, media.LinkRequest{ThreadID: th.ID, Kind: media.KindAny})
	at := int64(1500)
	reply, _, err := e.svc.StartRecording(ctx, e.MustGuest(t, token), media.RecordingRequest{ReplyTo: root.ID, ReplyAtMS: &at, Kind: media.KindAudio})
	if err != nil {
		t.Fatalf("reply through thread link: %v", err)
	}
	_, _, outside := e.svc.StartRecording(ctx, e.MustGuest(t, token), media.RecordingRequest{ReplyTo: elsewhere.ID, Kind: media.KindAudio})
	got := []any{reply.ThreadID, reply.ReplyTo, *reply.ReplyAtMS, code(outside)}
	if diff := cmp.Diff([]any{th.ID, root.ID, at, media.EINVALID}, got); diff != "" {
		t.Errorf("thread link replies (-want +got):\n%s", diff)
	}
}

func TestGuestThreadShowsUnlistedClipsOfItsThread(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	th, _ := e.svc.CreateThread(ctx, e.admin, "t")
	open, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{ThreadID: th.ID, Kind: media.KindVideo})
	hidden, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{ThreadID: th.ID, Kind: media.KindVideo})
	e.svc.SetClipPrivacy(ctx, e.admin, hidden.ID, media.Private)
	e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{Kind: media.KindVideo}) // another thread
	token := e.MustLink(t, media.LinkRequest{ThreadID: th.ID, Kind: media.KindAny, MaxUses: 1})
	got, clips, err := e.svc.GuestThread(ctx, e.MustGuest(t, token))
	if err != nil {
		t.Fatalf("GuestThread: %v", err)
	}
	ids := []string{}
	for _, c := range clips {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]any{th.ID, []string{open.ID}}, []any{got.ID, ids}); diff != "" {
		t.Errorf("guest thread (-want +got):\n%s", diff)
	}
	e.svc.StartRecording(ctx, e.MustGuest(t, token), media.RecordingRequest{Kind: media.KindVideo})
	_, _, usedUp := e.svc.GuestThread(ctx, e.MustGuest(t, token))
	e.svc.RevokeRecorderLink(ctx, e.admin, e.MustGuest(t, token).Link.ID)
	_, _, revoked := e.svc.GuestThread(ctx, e.MustGuest(t, token))
	_, _, member := e.svc.GuestThread(ctx, e.admin)
	if diff := cmp.Diff([]string{"", media.EGONE, media.EFORBIDDEN}, []string{code(usedUp), code(revoked), code(member)}); diff != "" {
		t.Errorf("used-up link, revoked link, member (-want +got):\n%s", diff)
	}
}

func TestWorkspacesAreIsolated(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	th, _ := e.svc.CreateThread(ctx, e.admin, "private to w1")
	intruder := e.MustWorkspace(t, "w2")
	_, _, err := e.svc.Thread(ctx, intruder, th.ID)
	_, _, recErr := e.svc.StartRecording(ctx, intruder, media.RecordingRequest{ThreadID: th.ID, Kind: media.KindVideo})
	_, _, linkErr := e.svc.CreateRecorderLink(ctx, intruder, media.LinkRequest{ThreadID: th.ID})
	if diff := cmp.Diff([]string{media.ENOTFOUND, media.ENOTFOUND, media.ENOTFOUND}, []string{code(err), code(recErr), code(linkErr)}); diff != "" {
		t.Errorf("cross-workspace access (-want +got):\n%s", diff)
	}
}

func TestRecorderLinkLimits(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	th, _ := e.svc.CreateThread(ctx, e.admin, "t")
	video := media.RecordingRequest{Kind: media.KindVideo}
	tests := []struct {
		name   string
		link   media.LinkRequest
		before func(linkID string)
		req    media.RecordingRequest
		want   []string // codes of successive StartRecording calls
	}{
		{"uses", media.LinkRequest{ThreadID: th.ID, Kind: media.KindAny, MaxUses: 2}, nil, video, []string{"", "", media.EGONE}},
		{"expiry", media.LinkRequest{ThreadID: th.ID, Kind: media.KindAny, ExpiresInS: 60}, func(string) { e.now = e.now.Add(time.Minute) }, video, []string{media.EGONE}},
		{"revoked", media.LinkRequest{ThreadID: th.ID, Kind: media.KindAny}, func(id string) { e.svc.RevokeRecorderLink(ctx, e.admin, id) }, video, []string{media.EGONE}},
		{"kind", media.LinkRequest{ThreadID: th.ID, Kind: media.KindAudio}, nil, video, []string{media.EFORBIDDEN}},
		{"audio ok", media.LinkRequest{ThreadID: th.ID, Kind: media.KindAudio}, nil, media.RecordingRequest{Kind: media.KindAudio}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := e.MustLink(t, tt.link)
			if tt.before != nil {
				tt.before(e.MustGuest(t, token).Link.ID)
			}
			var got []string
			for range tt.want {
				_, _, err := e.svc.StartRecording(ctx, e.MustGuest(t, token), tt.req)
				got = append(got, code(err))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("StartRecording codes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGuestRecordsIntoLinkTarget(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	th, _ := e.svc.CreateThread(ctx, e.admin, "t")
	root, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{ThreadID: th.ID, Kind: media.KindVideo})
	guest := e.MustGuest(t, e.MustLink(t, media.LinkRequest{ReplyTo: root.ID, Kind: media.KindAny, MaxDurationS: 30}))
	c, limit, err := e.svc.StartRecording(ctx, guest, media.RecordingRequest{Kind: media.KindAudio})
	if err != nil {
		t.Fatalf("StartRecording: %v", err)
	}
	after, _, _ := e.svc.Thread(ctx, e.admin, th.ID)
	got := []any{c.ThreadID, c.ReplyTo, c.Kind, c.Status, c.LinkID, limit, after.ClipCount}
	want := []any{th.ID, root.ID, media.KindAudio, media.StatusRecording, guest.Link.ID, 30 * time.Second, 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("guest clip (-want +got):\n%s", diff)
	}
}

func TestFinishRecordingQueuesProcessingOnce(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	e.flush(t)
	c, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{Kind: media.KindVideo})
	done, err := e.svc.FinishRecording(ctx, c.ID, media.Recording{OriginalKey: media.OriginalKey(c.ID, "webm"), DurationMS: 5000})
	if err != nil {
		t.Fatalf("FinishRecording: %v", err)
	}
	if _, err := e.svc.FinishRecording(ctx, c.ID, media.Recording{}); code(err) != media.ECONFLICT {
		t.Errorf("second FinishRecording = %v, want conflict", err)
	}
	got := []any{done.Status, done.DurationMS, e.queued(t)}
	want := []any{media.StatusProcessing, int64(5000), 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after FinishRecording (-want +got):\n%s", diff)
	}
}

// TestReconcileRefillsFlushedQueue shows Redis can lose everything: the database says
// which clips are owed work and Reconcile queues them again.
func TestReconcileRefillsFlushedQueue(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	e.flush(t)
	for range 3 {
		c, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{Kind: media.KindVideo})
		e.svc.FinishRecording(ctx, c.ID, media.Recording{OriginalKey: media.OriginalKey(c.ID, "webm")})
	}
	e.flush(t)
	n, err := e.svc.Reconcile(ctx, true, 100)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if diff := cmp.Diff([]int{3, 3}, []int{n, e.queued(t)}); diff != "" {
		t.Errorf("reconciled, queued (-want +got):\n%s", diff)
	}
}

// flush empties this package's Redis database, as losing Redis would.
func TestExpireAbandonedRecordings(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	e.svc.MaxRecordingS = 60
	stale, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{Kind: media.KindVideo})
	e.now = time.Now().UTC().Add(time.Minute + 16*time.Minute) // the store stamps real time
	fresh, _, _ := e.svc.StartRecording(ctx, e.admin, media.RecordingRequest{Kind: media.KindVideo})
	n, err := e.svc.ExpireAbandoned(ctx, 100)
	if err != nil {
		t.Fatalf("ExpireAbandoned: %v", err)
	}
	s, _ := e.store.GetClip(ctx, stale.ID)
	f, _ := e.store.GetClip(ctx, fresh.ID)
	if diff := cmp.Diff([]any{1, media.StatusFailed, media.StatusRecording}, []any{n, s.Status, f.Status}); diff != "" {
		t.Errorf("expired, stale, fresh (-want +got):\n%s", diff)
	}
}

func (e *env) flush(t *testing.T) {
	t.Helper()
	c := e.rdb.MakeRedisClient().(redis.UniversalClient)
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis: %v", err)
	}
}

// queued runs a real asynq server on this package's database until it has been idle for a
// moment and returns how many distinct clips it was asked to transcode.
func (e *env) queued(t *testing.T) int {
	t.Helper()
	var mu sync.Mutex
	clips := map[string]bool{}
	mux := asynq.NewServeMux()
	mux.HandleFunc(worker.TypeTranscode, func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		clips[string(task.Payload())] = true
		return nil
	})
	srv := asynq.NewServer(e.rdb, worker.ServerConfig(slog.New(slog.NewTextHandler(io.Discard, nil)), 2))
	if err := srv.Start(mux); err != nil {
		t.Fatalf("start asynq server: %v", err)
	}
	defer srv.Shutdown()
	for seen, idle := -1, 0; idle < 10; idle++ {
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		if len(clips) != seen {
			seen, idle = len(clips), 0
		}
		mu.Unlock()
	}
	return len(clips)
}
