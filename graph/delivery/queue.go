package delivery

import (
	"context"
	"sync"
	"time"
)

// Queue sends messages in the background, for flows whose answer must not depend on whether a
// message was sent: a request's time would otherwise tell an attacker that the data matched
// (requestPasswordReset, selfRegister). Its workers are owned by the Queue and end in Close.
type Queue struct {
	sender  Sender
	timeout time.Duration
	jobs    chan queued
	wg      sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

type queued struct {
	msg    Message
	onFail func(error)
}

// NewQueue starts workers goroutines that send through sender, each message with at most timeout,
// and holds at most size messages waiting.
func NewQueue(sender Sender, size, workers int, timeout time.Duration) *Queue {
	q := &Queue{sender: sender, timeout: timeout, jobs: make(chan queued, size)}
	for range workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

func (q *Queue) work() {
	defer q.wg.Done()
	for j := range q.jobs {
		q.send(j)
	}
}

func (q *Queue) send(j queued) {
	ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
	defer cancel()
	if err := q.sender.Send(ctx, j.msg); err != nil && j.onFail != nil {
		j.onFail(err)
	}
}

// Enqueue hands m to the workers; onFail runs (on a worker) if sending fails. When the queue is
// full or closed the message is sent at once on the caller's goroutine: slower, never lost.
func (q *Queue) Enqueue(m Message, onFail func(error)) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if !q.closed {
		select {
		case q.jobs <- queued{msg: m, onFail: onFail}:
			return
		default:
		}
	}
	q.send(queued{msg: m, onFail: onFail})
}

// Close stops accepting work and waits until every queued message was sent or failed.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	q.wg.Wait()
}
