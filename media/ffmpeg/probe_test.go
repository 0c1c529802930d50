package ffmpeg

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProbe(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    *Probe
		wantErr bool
	}{
		{
			name: "webm video and audio",
			json: `{"streams":[
				{"codec_type":"video","codec_name":"vp8","width":1280,"height":720,"avg_frame_rate":"30/1","r_frame_rate":"30/1"},
				{"codec_type":"audio","codec_name":"opus"}],
				"format":{"format_name":"matroska,webm","duration":"3.007000"}}`,
			want: &Probe{DurationMS: 3007, HasVideo: true, HasAudio: true, Width: 1280, Height: 720,
				VideoCodec: "vp8", AudioCodec: "opus", Format: "matroska,webm", FrameRate: 30},
		},
		{
			name: "streamed webm: duration from the stream tag, rate from r_frame_rate",
			json: `{"streams":[
				{"codec_type":"video","codec_name":"vp8","width":640,"height":480,"avg_frame_rate":"0/0","r_frame_rate":"30000/1001",
				 "tags":{"DURATION":"00:01:02.500000000"}}],
				"format":{"format_name":"matroska,webm"}}`,
			want: &Probe{DurationMS: 62_500, HasVideo: true, Width: 640, Height: 480,
				VideoCodec: "vp8", Format: "matroska,webm", FrameRate: 30000.0 / 1001},
		},
		{
			name: "audio with cover art",
			json: `{"streams":[
				{"codec_type":"audio","codec_name":"mp3","duration":"4.5"},
				{"codec_type":"video","codec_name":"mjpeg","width":300,"height":300,"disposition":{"attached_pic":1}}],
				"format":{"format_name":"mp3","duration":"N/A"}}`,
			want: &Probe{DurationMS: 4500, HasAudio: true, AudioCodec: "mp3", Format: "mp3"},
		},
		{
			name: "second streams are ignored",
			json: `{"streams":[
				{"codec_type":"audio","codec_name":"opus"},{"codec_type":"audio","codec_name":"aac"},
				{"codec_type":"video","codec_name":"h264","width":2,"height":2},
				{"codec_type":"video","codec_name":"vp9","width":4,"height":4}],
				"format":{"format_name":"mov","duration":"1"}}`,
			want: &Probe{DurationMS: 1000, HasVideo: true, HasAudio: true, Width: 2, Height: 2,
				VideoCodec: "h264", AudioCodec: "opus", Format: "mov"},
		},
		{
			name: "no streams",
			json: `{"format":{"format_name":"wav","duration":"-1"}}`,
			want: &Probe{Format: "wav"},
		},
		{name: "empty object", json: `{}`, wantErr: true},
		{name: "garbage", json: `not json`, wantErr: true},
		{name: "wrong types", json: `{"streams":"x","format":{}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProbe([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseProbe error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseProbe (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseProbe(f *testing.F) {
	f.Add([]byte(`{"streams":[{"codec_type":"video","width":2,"height":2,"avg_frame_rate":"1/0"}],"format":{"duration":"1e308"}}`))
	f.Add([]byte(`{"streams":[{"codec_type":"audio","tags":{"DURATION":"99999:59:59.9"}}],"format":{}}`))
	f.Add([]byte(`{"format":{"duration":"NaN"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProbe(data)
		if err != nil {
			if p != nil {
				t.Fatalf("ParseProbe returned a probe with error %v", err)
			}
			return
		}
		if p.DurationMS < 0 || p.FrameRate < 0 || p.FrameRate != p.FrameRate {
			t.Fatalf("ParseProbe gave impossible values: %+v", p)
		}
		if p.HasVideo && (p.Width <= 0 || p.Height <= 0) {
			t.Fatalf("video without a size: %+v", p)
		}
	})
}
