package main

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"parley/media/mediatest"
)

func TestHelpNamesEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &out); code != 0 {
		t.Fatalf("parley -h exited %d", code)
	}
	for _, v := range []string{"PARLEY_ADDR", "PARLEY_DATA_DIR", "PARLEY_DATABASE_URL", "PARLEY_REDIS_URL",
		"PARLEY_S3_ENDPOINT", "PARLEY_S3_ACCESS_KEY", "PARLEY_S3_SECRET_KEY", "PARLEY_S3_BUCKET",
		"PARLEY_ADMIN_TOKEN", "PARLEY_UDP_PORT", "PARLEY_PUBLIC_IP", "serve", "worker", "migrate"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("parley -h does not mention %s", v)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate", "-data-dir", t.TempDir()}, &out, &out); code == 0 {
		t.Fatalf("unknown command exited 0:\n%s", out.String())
	}
}

type thread struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Clips []any  `json:"clips"`
}

func TestEmbeddedThreadSurvivesRestart(t *testing.T) {
	in := MustStart(t, nil)
	var created thread
	if code := in.Do(t, "POST", "/api/v1/threads", map[string]string{"title": "Launch notes"}, &created); code != 201 {
		t.Fatalf("create thread: %d", code)
	}
	if code := in.Stop(t); code != 0 {
		t.Fatalf("parley exited %d on SIGTERM:\n%s", code, in.out)
	}
	again := MustStart(t, in.Env)
	var got thread
	if code := again.Do(t, "GET", "/api/v1/threads/"+created.ID, nil, &got); code != 200 {
		t.Fatalf("get thread after restart: %d", code)
	}
	want := thread{ID: created.ID, Title: "Launch notes", Clips: []any{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("thread after restart (-want +got):\n%s", diff)
	}
}

func TestGeneratedAdminKeyIsPrintedOnce(t *testing.T) {
	in := MustStart(t, map[string]string{"PARLEY_ADMIN_TOKEN": ""})
	key := regexp.MustCompile(`Admin API key[^:]*: (pk_\S+)`).FindStringSubmatch(in.out.String())
	if key == nil {
		t.Fatalf("no admin key printed:\n%s", in.out)
	}
	if code := in.DoAs(t, key[1], "POST", "/api/v1/threads", map[string]string{"title": "x"}, nil); code != 201 {
		t.Errorf("printed key does not work: %d", code)
	}
	in.Stop(t)
	again := MustStart(t, in.Env)
	if strings.Contains(again.out.String(), "Admin API key") {
		t.Errorf("admin key printed again on restart")
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestBadRequestsGetJSONErrors(t *testing.T) {
	in := MustStart(t, nil)
	var th thread
	in.Do(t, "POST", "/api/v1/threads", map[string]string{"title": "t"}, &th)
	tests := []struct {
		name, token, method, path, body string
		want                            int
	}{
		{"malformed json", in.AdminToken, "POST", "/api/v1/threads", `{"title":`, 400},
		{"unknown field", in.AdminToken, "POST", "/api/v1/threads", `{"title":"a","x":1}`, 400},
		{"wrong type", in.AdminToken, "POST", "/api/v1/threads", `{"title":7}`, 400},
		{"title too long", in.AdminToken, "POST", "/api/v1/threads", `{"title":"` + strings.Repeat("a", 300) + `"}`, 400},
		{"oversized body", in.AdminToken, "POST", "/api/v1/threads", `{"title":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
		{"no token", "", "POST", "/api/v1/threads", `{"title":"a"}`, 401},
		{"forged token", "pk_forged", "GET", "/api/v1/threads/" + th.ID, ``, 401},
		{"forged link token", "rl_forged", "GET", "/api/v1/threads/" + th.ID, ``, 401},
		{"unknown thread", in.AdminToken, "GET", "/api/v1/threads/aaaaaaaaaaaaaaaaaaaaaaaaaa", ``, 404},
		{"unknown clip", in.AdminToken, "GET", "/api/v1/clips/nope", ``, 404},
		{"bad link kind", in.AdminToken, "POST", "/api/v1/recorder-links", `{"kind":"hologram"}`, 400},
		{"negative uses", in.AdminToken, "POST", "/api/v1/recorder-links", `{"kind":"video","max_uses":-1}`, 400},
		{"unknown route", in.AdminToken, "GET", "/api/v1/nothing", ``, 404},
		{"whip wrong type", in.AdminToken, "POST", "/whip", `v=0`, 415},
		{"whip garbage sdp", in.AdminToken, "POST", "/whip", `garbage`, 400},
		{"whip no token", "", "POST", "/whip", `v=0`, 401},
		{"whip unknown session", in.AdminToken, "DELETE", "/whip/nope", ``, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := rawRequest(t, in, tt)
			if code != tt.want {
				t.Errorf("%s %s = %d, want %d (%+v)", tt.method, tt.path, code, tt.want, body)
			}
			if body.Error.Code == "" || body.Error.Message == "" {
				t.Errorf("%s %s: body is not {\"error\":{\"code\",\"message\"}}: %+v", tt.method, tt.path, body)
			}
		})
	}
}

func rawRequest(t *testing.T, in *instance, tt struct {
	name, token, method, path, body string
	want                            int
}) (int, apiError) {
	t.Helper()
	req, _ := http.NewRequest(tt.method, in.BaseURL+tt.path, strings.NewReader(tt.body))
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(tt.path, "/whip") && tt.name != "whip wrong type" {
		req.Header.Set("Content-Type", "application/sdp")
	}
	if tt.token != "" {
		req.Header.Set("Authorization", "Bearer "+tt.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", tt.method, tt.path, err)
	}
	defer resp.Body.Close()
	var body apiError
	decodeBody(resp, &body)
	return resp.StatusCode, body
}

func TestComposeFileIsValid(t *testing.T) {
	bin := mediatest.Require(t, "docker-compose")
	out, err := exec.Command(bin, "-f", "../../docker-compose.yml", "config", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
}

func TestProductionShape(t *testing.T) {
	env := productionEnv(t, 10, "parley-prod-shape")
	var migrateOut bytes.Buffer
	for k, v := range withDefaults(t, env) {
		t.Setenv(k, v)
	}
	if code := run(context.Background(), []string{"migrate"}, &migrateOut, &migrateOut); code != 0 {
		t.Fatalf("parley migrate exited %d:\n%s", code, migrateOut.String())
	}
	srv := MustStart(t, env, "serve")
	workerEnv := maps.Clone(srv.Env)
	delete(workerEnv, "PARLEY_ADDR")
	delete(workerEnv, "PARLEY_BASE_URL")
	MustStart(t, workerEnv, "worker") // shares database, queue and bucket
	var th thread
	if code := srv.Do(t, "POST", "/api/v1/threads", map[string]string{"title": "prod"}, &th); code != 201 {
		t.Fatalf("create thread: %d", code)
	}
	var ready map[string]any
	if code := srv.Do(t, "GET", "/readyz", nil, &ready); code != 200 {
		t.Fatalf("readyz = %d: %v", code, ready)
	}
}

func TestInvalidSettingsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown preset", []string{"-x264-preset", "warp"}},
		{"s3 without keys", []string{"-s3-endpoint", "127.0.0.1:1"}},
		{"unknown flag", []string{"-colour", "red"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(context.Background(), append(tt.args, "-data-dir", t.TempDir()), &out, &out); code != 2 {
				t.Errorf("parley %v exited %d, want 2:\n%s", tt.args, code, out.String())
			}
		})
	}
}
