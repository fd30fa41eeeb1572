package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// recordingSender remembers what it was asked to send and fails for one address.
type recordingSender struct {
	mu    sync.Mutex
	sent  []string
	fails string
	gate  chan struct{} // when set, every Send waits for it
	// entered, when set, hears of every Send as it starts.
	entered chan string
}

func (r *recordingSender) Send(ctx context.Context, m Message) error {
	if r.entered != nil {
		r.entered <- m.To
	}
	if r.gate != nil {
		<-r.gate
	}
	if m.To == r.fails {
		return errors.New("mailbox unavailable")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m.To)
	return nil
}

func TestQueue_closeSendsEverythingQueued_failuresReported(t *testing.T) {
	s := &recordingSender{fails: "bad@example.com", gate: make(chan struct{})}
	q := NewQueue(s, 16, 2, time.Second)
	var failed []error
	var mu sync.Mutex
	for _, to := range []string{"a@example.com", "bad@example.com", "b@example.com"} {
		q.Enqueue(Message{Channel: ChannelEmail, To: to}, func(err error) {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, err)
		})
	}
	close(s.gate)
	q.Close()
	if len(s.sent) != 2 || len(failed) != 1 {
		t.Fatalf("sent %v, failed %v: want 2 sent and 1 failure", s.sent, failed)
	}
	// After Close a message is still sent, on the caller's goroutine.
	q.Enqueue(Message{Channel: ChannelEmail, To: "late@example.com"}, nil)
	if len(s.sent) != 3 {
		t.Fatalf("sent %v after Close, want the late message too", s.sent)
	}
}

func TestQueue_full_sendsOnTheCallersGoroutine(t *testing.T) {
	s := &recordingSender{gate: make(chan struct{}), entered: make(chan string, 3)}
	q := NewQueue(s, 1, 1, time.Second)
	defer q.Close()
	q.Enqueue(Message{To: "first@example.com"}, nil) // taken by the worker, blocked on the gate
	<-s.entered
	q.Enqueue(Message{To: "second@example.com"}, nil) // waits in the queue
	done := make(chan struct{})
	go func() {
		q.Enqueue(Message{To: "third@example.com"}, nil) // the queue is full: sent here
		close(done)
	}()
	if to := <-s.entered; to != "third@example.com" {
		t.Fatalf("%s was sent while the queue was full, want third@example.com on the caller", to)
	}
	select {
	case <-done:
		t.Fatal("the full queue's message was dropped instead of sent")
	case <-time.After(50 * time.Millisecond):
	}
	close(s.gate)
	<-done
	q.Close()
	if len(s.sent) != 3 {
		t.Fatalf("sent %v, want all three", s.sent)
	}
}
