package store

import "testing"

type txBound struct{ detached bool }

func (t *txBound) Unwrap() *txBound {
	if t == nil || t.detached {
		panic("not transactional")
	}
	return &txBound{detached: true}
}

func TestDetach(t *testing.T) {
	if got := Detach(&txBound{}); !got.detached {
		t.Error("a transactional entity was not unwrapped")
	}
	already := &txBound{detached: true}
	if got := Detach(already); got != already {
		t.Error("a non-transactional entity was not returned as it is")
	}
	if got := Detach[*txBound](nil); got != nil {
		t.Error("nil did not stay nil")
	}
	if got := Detach(42); got != 42 {
		t.Error("a plain value changed")
	}
}
