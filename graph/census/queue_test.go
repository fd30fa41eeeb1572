package census_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"coffer/ent"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
	"coffer/graph/census"
)

// procedureIDs are the ids of a page of procedures, in order.
func procedureIDs(c *census.ProcedureConnection) []int {
	var out []int
	for _, e := range c.Edges {
		out = append(out, e.Node.ID)
	}
	return out
}

// The queue's order: pending first, prioritized first among them, then oldest first (processed
// ones after, in the same order); its cursors keep their place when procedures are added.
func TestQueue_pendingPrioritizedOldestFirst_cursorsKeepTheirPlace(t *testing.T) {
	ctx := context.Background()
	s, a, clk := newService(t)
	tick := func() { clk.Set(clk.Now().Add(time.Second)) }
	var regs []*ent.Procedure
	for i := range 3 {
		d := data()
		d.DocumentID = ptr([]string{"00000000T", "00000001R", "00000002W"}[i])
		_, reg, err := s.Register(ctx, a, census.Registration{Data: d})
		if err != nil {
			t.Fatal(err)
		}
		regs = append(regs, reg)
		tick()
	}
	if _, err := s.Process(ctx, a, regs[0].ID, census.Accept, "", ""); err != nil {
		t.Fatal(err)
	}
	p2, _ := s.Client.Person.Get(ctx, regs[2].PersonID)
	doc, err := s.RequestDocumentVerification(ctx, a, p2, []census.File{pngFile()}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{doc.ID, regs[1].ID, regs[2].ID, regs[0].ID}
	all, err := s.Queue(ctx, census.QueueFilter{}, census.Page{First: ptr(10), WantTotal: true}, census.QueueLoad{Person: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := procedureIDs(all); !equalInts(got, want) || all.TotalCount != 4 || all.Edges[0].Node.Edges.Person == nil {
		t.Fatalf("queue %v (total %d), want %v", got, all.TotalCount, want)
	}
	// Walk forward two at a time and backward from the end: the same order.
	page, err := s.Queue(ctx, census.QueueFilter{}, census.Page{First: ptr(2)}, census.QueueLoad{})
	if err != nil {
		t.Fatal(err)
	}
	tick()
	d := data()
	d.DocumentID = ptr("00000003A")
	if _, _, err := s.Register(ctx, a, census.Registration{Data: d}); err != nil { // pending, newest
		t.Fatal(err)
	}
	next, err := s.Queue(ctx, census.QueueFilter{}, census.Page{First: ptr(2), After: page.PageInfo.EndCursor}, census.QueueLoad{})
	if err != nil {
		t.Fatal(err)
	}
	if got := procedureIDs(next); !equalInts(got, []int{regs[2].ID, next.Edges[1].Node.ID}) || next.Edges[1].Node.State != procedure.StatePENDING ||
		!next.PageInfo.HasNextPage {
		t.Fatalf("after the cursor: %v %+v", got, next.PageInfo)
	}
	back, err := s.Queue(ctx, census.QueueFilter{}, census.Page{Last: ptr(3), Before: next.PageInfo.EndCursor}, census.QueueLoad{})
	if err != nil {
		t.Fatal(err)
	}
	if got := procedureIDs(back); !equalInts(got, []int{doc.ID, regs[1].ID, regs[2].ID}) || back.PageInfo.HasPreviousPage {
		t.Fatalf("before the cursor: %v %+v", got, back.PageInfo)
	}
	// A cursor of another list is the client's mistake.
	_, err = s.Queue(ctx, census.QueueFilter{}, census.Page{First: ptr(2), After: &ent.Cursor{ID: 1, Value: int64(3)}}, census.QueueLoad{})
	var ae *apperr.Error
	if !asAppErr(err, &ae) || ae.Code != apperr.BadUserInput || ae.Fields["after"] == "" {
		t.Fatalf("foreign cursor: %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pngFile() census.File {
	png := append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, 1, 2, 3)
	return census.File{Filename: "a.png", ContentType: "image/png", Base64Content: base64.StdEncoding.EncodeToString(png)}
}
