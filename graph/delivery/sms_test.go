package delivery

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// gateway is an httptest.Server standing in for the SMS provider's webhook.
type gateway struct {
	*httptest.Server
	mu       sync.Mutex
	requests []gatewayRequest
}

type gatewayRequest struct {
	method, contentType, path string
	body                      []byte
}

func (g *gateway) got() []gatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.requests...)
}

func startGateway(t *testing.T, status int) *gateway {
	t.Helper()
	g := &gateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.requests = append(g.requests, gatewayRequest{
			method: r.Method, contentType: r.Header.Get("Content-Type"), path: r.URL.RequestURI(), body: body,
		})
		g.mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"echo": "secret-body 904211"}`)
	}))
	t.Cleanup(g.Close)
	return g
}

func smsMessage(code string) Message {
	return Message{Channel: ChannelSMS, To: "+4915112345678", Text: "Your code is " + code + ". It expires in 10 minutes.", Code: code}
}

func TestSend_sms_postsJSONToWebhook(t *testing.T) {
	g := startGateway(t, http.StatusAccepted)
	s := newSender(t, Config{SMSWebhookURL: g.URL + "/hooks/sms?token=t0k"})

	if err := s.Send(sendCtx(t), smsMessage("904211")); err != nil {
		t.Fatalf("Send: %v", err)
	}

	got := g.got()
	if len(got) != 1 {
		t.Fatalf("gateway got %d requests, want 1", len(got))
	}
	if got[0].method != http.MethodPost || got[0].contentType != "application/json" || got[0].path != "/hooks/sms?token=t0k" {
		t.Errorf("request = %s %s (%s), want POST /hooks/sms?token=t0k (application/json)", got[0].method, got[0].path, got[0].contentType)
	}
	var body map[string]any
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, got[0].body)
	}
	want := map[string]any{"to": "+4915112345678", "text": "Your code is 904211. It expires in 10 minutes."}
	if len(body) != len(want) || body["to"] != want["to"] || body["text"] != want["text"] {
		t.Errorf("body = %v, want exactly %v", body, want)
	}
}

func TestSend_sms_nonSuccessStatus_returnsErrorWithoutBody(t *testing.T) {
	tests := []struct {
		name       string
		giveStatus int
		wantErr    string
	}{
		{name: "server error", giveStatus: http.StatusInternalServerError, wantErr: "500"},
		{name: "client error", giveStatus: http.StatusBadRequest, wantErr: "400"},
		{name: "redirect is not followed", giveStatus: http.StatusFound, wantErr: "302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, tt.giveStatus)
			s := newSender(t, Config{SMSWebhookURL: g.URL + "/sms?token=t0k"})

			err := s.Send(sendCtx(t), smsMessage("904211"))

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Send error = %v, want one naming status %s", err, tt.wantErr)
			}
			for _, leak := range []string{"secret-body", "904211", "t0k"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q contains %q", err, leak)
				}
			}
			if n := len(g.got()); n != 1 {
				t.Errorf("gateway got %d requests, want 1 (no redirect followed, no retry)", n)
			}
		})
	}
}

func TestSend_sms_gatewayUnreachable_returnsErrorWithoutURL(t *testing.T) {
	g := startGateway(t, http.StatusOK)
	url := g.URL + "/sms?token=t0k"
	g.Close()
	s := newSender(t, Config{SMSWebhookURL: url})

	err := s.Send(sendCtx(t), smsMessage("904211"))

	if err == nil {
		t.Fatal("Send to a closed gateway succeeded")
	}
	if strings.Contains(err.Error(), "t0k") {
		t.Errorf("error %q quotes the webhook URL's token", err)
	}
}
