package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const (
	smsTimeout = 10 * time.Second
	// smsMaxDrainBytes is how much of a response body is read so the connection can be reused.
	smsMaxDrainBytes = 64 << 10
)

// smsTransport posts each SMS as JSON to a gateway's webhook.
type smsTransport struct {
	url    string
	client *http.Client
}

var _ transport = (*smsTransport)(nil)

// smsRequest is the webhook's body (API.md, "Codes").
type smsRequest struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

func newSMSTransport(rawURL string, client *http.Client) (*smsTransport, error) {
	// Errors never quote the URL: it may carry a token.
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("delivery: SMS_WEBHOOK_URL must be an http or https URL")
	}
	if client == nil {
		client = &http.Client{
			Timeout: smsTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &smsTransport{url: rawURL, client: client}, nil
}

func (t *smsTransport) send(ctx context.Context, m Message) error {
	body, err := json.Marshal(smsRequest{To: m.To, Text: m.Text})
	if err != nil {
		return fmt.Errorf("delivery: sms: %w", err)
	}
	// The timeout holds even for a caller's HTTPClient that has none.
	ctx, cancel := context.WithTimeout(ctx, smsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return errors.New("delivery: sms: cannot build the webhook request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which may hold a token: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("delivery: sms: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, smsMaxDrainBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The body is not quoted: a gateway may echo the message, and with it the code.
		// Nor the reason phrase, which the gateway chooses.
		return fmt.Errorf("delivery: sms: webhook answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}
