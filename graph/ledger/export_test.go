package ledger

import "context"

// PostAsOneBatch applies ps as one batch, as the poster does when they arrive together, and
// returns each posting's answer.
func PostAsOneBatch(l *Ledger, ps []Posting) ([]Result, []error) {
	results, errs, _ := PostAsOneBatchFailed(l, ps)
	return results, errs
}

// PostAsOneBatchFailed is PostAsOneBatch, and whether the batch failed as a whole (its
// postings then ran alone).
func PostAsOneBatchFailed(l *Ledger, ps []Posting) ([]Result, []error, bool) {
	b := &Batcher{l: l, cfg: BatchConfig{Max: len(ps)}}
	batch := make([]*waiting, len(ps))
	for i, p := range ps {
		batch[i] = &waiting{ctx: context.Background(), p: p, answer: make(chan answer, 1)}
	}
	b.apply(batch)
	results, errs := make([]Result, len(ps)), make([]error, len(ps))
	for i, w := range batch {
		a := <-w.answer
		results[i], errs[i] = Result{Transaction: a.txn}, a.err
	}
	return results, errs, b.wholeFailures.Load() > 0
}

// SettlePosting is the hooked posting SubmitApply submits.
func SettlePosting(h Hook) Posting { return Posting{Hook: h, settles: true} }
