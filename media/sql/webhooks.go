package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"

	"parley/media"
)

const webhookCols = "id, workspace_id, url, secret, events, created_at"

func scanWebhook(sc scanner) (*media.Webhook, error) {
	var w media.Webhook
	var events dbsql.NullString
	var created int64
	if err := sc.Scan(&w.ID, &w.WorkspaceID, &w.URL, &w.Secret, &events, &created); err != nil {
		return nil, err
	}
	w.CreatedAt = fromMicros(created)
	if err := fromJSON(events, &w.Events); err != nil {
		return nil, fmt.Errorf("webhook %s events: %w", w.ID, err)
	}
	return &w, nil
}

// CreateWebhook stores a new webhook; ECONFLICT if its ID is taken.
func (s *Store) CreateWebhook(ctx context.Context, w *media.Webhook) error {
	const q = `INSERT INTO webhooks (` + webhookCols + `) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	round(&w.CreatedAt)
	events, err := jsonText(w.Events)
	if err != nil {
		return fmt.Errorf("create webhook %s: %w", w.ID, err)
	}
	return s.insert(ctx, "webhook", w.ID, q, w.ID, w.WorkspaceID, w.URL, w.Secret, events, micros(w.CreatedAt))
}

// GetWebhook returns a webhook; ENOTFOUND if none.
func (s *Store) GetWebhook(ctx context.Context, id string) (*media.Webhook, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id)
	return getOne(row, scanWebhook, "webhook", id)
}

// ListWebhooks returns a workspace's webhooks, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, workspaceID string) ([]*media.Webhook, error) {
	const q = `SELECT ` + webhookCols + ` FROM webhooks WHERE workspace_id = $1 ORDER BY created_at, id`
	return list(ctx, s, scanWebhook, fmt.Sprintf("webhooks of %s", workspaceID), q, workspaceID)
}

// UpdateWebhook saves a webhook's URL, secret and events; ENOTFOUND if its workspace has no
// webhook with its ID.
func (s *Store) UpdateWebhook(ctx context.Context, w *media.Webhook) error {
	const q = `UPDATE webhooks SET url = $3, secret = $4, events = $5 WHERE workspace_id = $1 AND id = $2`
	events, err := jsonText(w.Events)
	if err != nil {
		return fmt.Errorf("update webhook %s: %w", w.ID, err)
	}
	return s.mustChange(ctx, "webhook", w.ID, q, w.WorkspaceID, w.ID, w.URL, w.Secret, events)
}

// DeleteWebhook removes a workspace's webhook (its past deliveries stay); ENOTFOUND if none.
func (s *Store) DeleteWebhook(ctx context.Context, workspaceID, id string) error {
	const q = `DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2`
	return s.mustChange(ctx, "webhook", id, q, workspaceID, id)
}

const eventCols = "id, workspace_id, type, payload, created_at"

func scanEvent(sc scanner) (*media.Event, error) {
	var e media.Event
	var payload dbsql.NullString
	var created int64
	if err := sc.Scan(&e.ID, &e.WorkspaceID, &e.Type, &payload, &created); err != nil {
		return nil, err
	}
	e.Payload, e.CreatedAt = bytesOf(payload), fromMicros(created)
	return &e, nil
}

// CreateEvent stores the event unless one with its ID exists; it reports whether it was new.
func (s *Store) CreateEvent(ctx context.Context, e *media.Event) (bool, error) {
	const q = `INSERT INTO events (` + eventCols + `) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`
	round(&e.CreatedAt)
	n, err := s.exec(ctx, q, e.ID, e.WorkspaceID, e.Type, nullBytes(e.Payload), micros(e.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("insert event %s: %w", e.ID, err)
	}
	return n == 1, nil
}

// GetEvent returns an event; ENOTFOUND if none.
func (s *Store) GetEvent(ctx context.Context, id string) (*media.Event, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, id)
	return getOne(row, scanEvent, "event", id)
}

const deliveryCols = "id, event_id, webhook_id, attempt, status_code, error, created_at"

func scanDelivery(sc scanner) (*media.Delivery, error) {
	var d media.Delivery
	var created int64
	if err := sc.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.Attempt, &d.StatusCode, &d.Error, &created); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicros(created)
	return &d, nil
}

// CreateDelivery records a delivery attempt; ECONFLICT if its ID is taken.
func (s *Store) CreateDelivery(ctx context.Context, d *media.Delivery) error {
	const q = `INSERT INTO deliveries (` + deliveryCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`
	round(&d.CreatedAt)
	return s.insert(ctx, "delivery", d.ID, q, d.ID, d.EventID, d.WebhookID, d.Attempt, d.StatusCode,
		d.Error, micros(d.CreatedAt))
}

// ListDeliveries returns an event's delivery attempts in order.
func (s *Store) ListDeliveries(ctx context.Context, eventID string) ([]*media.Delivery, error) {
	const q = `SELECT ` + deliveryCols + ` FROM deliveries WHERE event_id = $1 ORDER BY attempt, created_at, id`
	return list(ctx, s, scanDelivery, fmt.Sprintf("deliveries of %s", eventID), q, eventID)
}
