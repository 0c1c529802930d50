package rtc

// h264Keyframe reports whether an AVC frame holds an IDR slice, and the picture size from its
// SPS when it carries one.
func h264Keyframe(b []byte) (bool, int, int) {
	key, w, h := false, 0, 0
	avcNALs(b, func(nal []byte) {
		if len(nal) == 0 {
			return
		}
		switch nal[0] & 0x1f {
		case 5:
			key = true
		case 7:
			if w == 0 {
				w, h = spsSize(nal)
			}
		}
	})
	return key, w, h
}

// unescapeRBSP removes emulation prevention bytes (00 00 03 → 00 00).
func unescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// ue reads an unsigned Exp-Golomb code.
func (r *bits) ue() uint32 {
	n := 0
	for r.read(1) == 0 && n < 32 {
		n++
	}
	return (1<<n - 1) + r.read(n)
}

// se reads a signed Exp-Golomb code.
func (r *bits) se() int32 {
	v := r.ue()
	if v%2 == 1 {
		return int32(v/2 + 1)
	}
	return -int32(v / 2)
}

// highProfile reports whether an H.264 profile carries chroma format and scaling lists in its
// SPS (H.264 §7.3.2.1.1).
func highProfile(p uint32) bool {
	switch p {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// spsSize returns the cropped picture size an H.264 SPS NAL unit describes.
func spsSize(nal []byte) (int, int) {
	r := &bits{b: unescapeRBSP(nal[1:])}
	profile := r.read(8)
	r.read(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := uint32(1)
	if highProfile(profile) {
		chroma = spsChroma(r)
	}
	r.ue() // log2_max_frame_num_minus4
	spsPicOrder(r)
	r.ue()    // max_num_ref_frames
	r.read(1) // gaps_in_frame_num_value_allowed_flag
	wMBs, hMaps := r.ue()+1, r.ue()+1
	frameMBsOnly := r.read(1)
	if frameMBsOnly == 0 {
		r.read(1) // mb_adaptive_frame_field_flag
	}
	r.read(1) // direct_8x8_inference_flag
	w, h := int(wMBs*16), int((2-frameMBsOnly)*hMaps*16)
	if r.read(1) == 1 {
		cx, cy := cropUnits(chroma, frameMBsOnly)
		left, right, top, bottom := r.ue(), r.ue(), r.ue(), r.ue()
		w -= int(cx * (left + right))
		h -= int(cy * (top + bottom))
	}
	return w, h
}

// spsChroma reads the high-profile fields up to the scaling matrices and returns
// chroma_format_idc.
func spsChroma(r *bits) uint32 {
	chroma := r.ue()
	if chroma == 3 {
		r.read(1) // separate_colour_plane_flag
	}
	r.ue()    // bit_depth_luma_minus8
	r.ue()    // bit_depth_chroma_minus8
	r.read(1) // qpprime_y_zero_transform_bypass_flag
	if r.read(1) == 0 {
		return chroma
	}
	lists := 8
	if chroma == 3 {
		lists = 12
	}
	for i := range lists {
		if r.read(1) == 1 {
			skipScalingList(r, map[bool]int{true: 16, false: 64}[i < 6])
		}
	}
	return chroma
}

func skipScalingList(r *bits, size int) {
	last, next := int32(8), int32(8)
	for range size {
		if next != 0 {
			next = (last + r.se() + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// spsPicOrder skips the picture order count fields.
func spsPicOrder(r *bits) {
	switch r.ue() {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.read(1)
		r.se()
		r.se()
		for n := r.ue(); n > 0 && n < 256; n-- {
			r.se()
		}
	}
}

// cropUnits are the frame cropping units for a chroma format (H.264 Table 6-1).
func cropUnits(chroma, frameMBsOnly uint32) (uint32, uint32) {
	x, y := uint32(1), uint32(1)
	switch chroma {
	case 1:
		x, y = 2, 2
	case 2:
		x = 2
	}
	return x, y * (2 - frameMBsOnly)
}
