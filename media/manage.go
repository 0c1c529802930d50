package media

import (
	"context"
	"fmt"
)

// CreateWorkspace makes a new workspace with an admin key, returned with its secret.
// Only admins of the default workspace may create workspaces.
func (s *Service) CreateWorkspace(ctx context.Context, p Principal, name string) (*Workspace, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	if p.WorkspaceID != DefaultWorkspaceID {
		return nil, "", Errorf(EFORBIDDEN, "only the default workspace's admins create workspaces")
	}
	if err := ValidateTitle(name); err != nil {
		return nil, "", err
	}
	w := &Workspace{ID: NewID(), Name: name, CreatedAt: s.now()}
	if err := s.Store.CreateWorkspace(ctx, w); err != nil {
		return nil, "", fmt.Errorf("create workspace: %w", err)
	}
	_, token, err := s.CreateAPIKey(ctx, w.ID, "admin", true)
	return w, token, err
}

// Workspace returns the principal's own workspace.
func (s *Service) Workspace(ctx context.Context, p Principal) (*Workspace, error) {
	if err := requireMember(p); err != nil {
		return nil, err
	}
	return s.Store.GetWorkspace(ctx, p.WorkspaceID)
}

// UpdateWorkspace changes the name and retention of the principal's workspace.
func (s *Service) UpdateWorkspace(ctx context.Context, p Principal, name *string, retentionDays *int) (*Workspace, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	w, err := s.Store.GetWorkspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if name != nil {
		if err := ValidateTitle(*name); err != nil {
			return nil, err
		}
		w.Name = *name
	}
	if retentionDays != nil {
		if *retentionDays < 0 || *retentionDays > 36500 {
			return nil, Errorf(EINVALID, "retention_days must be between 0 (keep forever) and 36500")
		}
		w.RetentionDays = *retentionDays
	}
	return w, s.Store.UpdateWorkspace(ctx, w)
}

// APIKeys lists the keys of the principal's workspace (hashes only).
func (s *Service) APIKeys(ctx context.Context, p Principal) ([]*APIKey, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	return s.Store.ListAPIKeys(ctx, p.WorkspaceID)
}

// NewAPIKey makes a key in the principal's workspace; the secret is returned only now.
func (s *Service) NewAPIKey(ctx context.Context, p Principal, name string, admin bool) (*APIKey, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	if err := ValidateTitle(name); err != nil {
		return nil, "", err
	}
	return s.CreateAPIKey(ctx, p.WorkspaceID, name, admin)
}

// RevokeAPIKey stops a key of the principal's workspace from working.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return s.Store.RevokeAPIKey(ctx, p.WorkspaceID, id, s.now())
}

// CreateWebhook subscribes a URL to events of the principal's workspace.
func (s *Service) CreateWebhook(ctx context.Context, p Principal, url string, events []string) (*Webhook, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	w := &Webhook{ID: NewID(), WorkspaceID: p.WorkspaceID, URL: url, Secret: NewWebhookSecret(), Events: events, CreatedAt: s.now()}
	if err := ValidateWebhook(w); err != nil {
		return nil, err
	}
	if err := s.Store.CreateWebhook(ctx, w); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return w, nil
}

// Webhooks lists the webhooks of the principal's workspace.
func (s *Service) Webhooks(ctx context.Context, p Principal) ([]*Webhook, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	return s.Store.ListWebhooks(ctx, p.WorkspaceID)
}

// Webhook returns one webhook of the principal's workspace.
func (s *Service) Webhook(ctx context.Context, p Principal, id string) (*Webhook, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	w, err := s.Store.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.WorkspaceID != p.WorkspaceID {
		return nil, Errorf(ENOTFOUND, "webhook %s not found", id)
	}
	return w, nil
}

// UpdateWebhook changes a webhook's URL and events.
func (s *Service) UpdateWebhook(ctx context.Context, p Principal, id string, url *string, events []string) (*Webhook, error) {
	w, err := s.Webhook(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if url != nil {
		w.URL = *url
	}
	if events != nil {
		w.Events = events
	}
	if err := ValidateWebhook(w); err != nil {
		return nil, err
	}
	return w, s.Store.UpdateWebhook(ctx, w)
}

// DeleteWebhook removes a webhook of the principal's workspace.
func (s *Service) DeleteWebhook(ctx context.Context, p Principal, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return s.Store.DeleteWebhook(ctx, p.WorkspaceID, id)
}
