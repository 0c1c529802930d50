package api

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"parley/media"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantErr  bool
		wantLink createLinkRequest
	}{
		{"full", `{"thread_id":"t","kind":"audio","max_duration_s":30,"expires_in_s":60,"max_uses":2}`, false,
			createLinkRequest{ThreadID: "t", Kind: "audio", MaxDurationS: 30, ExpiresInS: 60, MaxUses: 2}},
		{"empty object", `{}`, false, createLinkRequest{}},
		{"empty body", ``, true, createLinkRequest{}},
		{"whitespace", "  \n", true, createLinkRequest{}},
		{"malformed", `{"kind":`, true, createLinkRequest{}},
		{"unknown field", `{"kind":"video","colour":"red"}`, true, createLinkRequest{}},
		{"wrong type", `{"max_uses":"two"}`, true, createLinkRequest{}},
		{"trailing object", `{} {}`, true, createLinkRequest{}},
		{"trailing garbage", `{}x`, true, createLinkRequest{}},
		{"array", `[]`, true, createLinkRequest{}},
		{"null", `null`, false, createLinkRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got createLinkRequest
			err := decodeJSON([]byte(tt.body), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeJSON(%q) error = %v, want error %v", tt.body, err, tt.wantErr)
			}
			if err != nil && media.ErrorCode(err) != media.EINVALID {
				t.Errorf("decodeJSON(%q) code = %s, want invalid", tt.body, media.ErrorCode(err))
			}
			if diff := cmp.Diff(tt.wantLink, got); err == nil && diff != "" {
				t.Errorf("decodeJSON (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeJSON checks that no body makes decoding panic or fail with anything but a client error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"title":"x"}`, `{"kind":"video","max_uses":3}`, `[`, `{"a":1}`, "\x00", `{"max_uses":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var link createLinkRequest
		if err := decodeJSON(data, &link); err != nil && media.ErrorCode(err) != media.EINVALID {
			t.Fatalf("decodeJSON(%q) = %v: not a client error", data, err)
		}
		var thread createThreadRequest
		if err := decodeJSON(data, &thread); err != nil && media.ErrorCode(err) != media.EINVALID {
			t.Fatalf("decodeJSON(%q) = %v: not a client error", data, err)
		}
	})
}
