package api

import (
	"github.com/gofiber/fiber/v2"

	"parley/media"
)

type createThreadRequest struct {
	Title string `json:"title"`
}

func (s *Server) createThread(c *fiber.Ctx) error {
	var req createThreadRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	t, err := s.Service.CreateThread(c.UserContext(), principal(c), req.Title)
	if err != nil {
		return err
	}
	v, err := s.threadView(c.UserContext(), t, nil)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) getThread(c *fiber.Ctx) error {
	t, clips, err := s.Service.Thread(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.threadView(c.UserContext(), t, clips)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) getClip(c *fiber.Ctx) error {
	clip, err := s.Service.Clip(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return s.sendClip(c, clip)
}

func (s *Server) sendClip(c *fiber.Ctx, clip *media.Clip) error {
	v, err := s.clipView(c.UserContext(), clip)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) listThreads(c *fiber.Ctx) error {
	threads, err := s.Service.Threads(c.UserContext(), principal(c), c.QueryInt("limit", 50))
	if err != nil {
		return err
	}
	views := make([]*threadView, 0, len(threads))
	for _, t := range threads {
		v, _ := s.threadView(c.UserContext(), t, nil)
		views = append(views, v)
	}
	return c.JSON(fiber.Map{"threads": views})
}

func (s *Server) updateClip(c *fiber.Ctx) error {
	var req struct {
		Privacy string `json:"privacy"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	privacy, err := media.ParsePrivacy(req.Privacy)
	if err != nil {
		return err
	}
	clip, err := s.Service.SetClipPrivacy(c.UserContext(), principal(c), c.Params("id"), privacy)
	if err != nil {
		return err
	}
	return s.sendClip(c, clip)
}

func (s *Server) deleteClip(c *fiber.Ctx) error {
	if err := s.Service.DeleteClip(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// downloadClip redirects to a short-lived URL of the original or a rendition.
func (s *Server) downloadClip(c *fiber.Ctx) error {
	clip, err := s.Service.Clip(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	key, ok := map[string]string{"original": clip.Media.Original, "mp4": clip.Media.MP4, "audio": clip.Media.Audio}[c.Query("rendition", "original")]
	if !ok {
		return media.Errorf(media.EINVALID, "rendition must be original, mp4 or audio")
	}
	if key == "" {
		return media.Errorf(media.ENOTFOUND, "clip %s has no %s yet", clip.ID, c.Query("rendition", "original"))
	}
	u, err := s.Blobs.SignedURL(c.UserContext(), key, privateMediaTTL)
	if err != nil {
		return err
	}
	return c.Redirect(u, fiber.StatusFound)
}

// maxCaptionsBody bounds captions uploads (the domain checks the exact limit).
const maxCaptionsBody = 512 << 10

// putCaptions stores a clip's WebVTT captions (Content-Type text/vtt).
func (s *Server) putCaptions(c *fiber.Ctx) error {
	vtt, err := readTyped(c, "text/vtt", maxCaptionsBody)
	if err != nil {
		return err
	}
	clip, err := s.Service.SetCaptions(c.UserContext(), principal(c), c.Params("id"), []byte(vtt))
	if err != nil {
		return err
	}
	return s.sendClip(c, clip)
}
