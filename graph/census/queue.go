package census

import (
	"context"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"coffer/ent"
	"coffer/ent/documentfile"
	"coffer/ent/person"
	"coffer/ent/predicate"
	"coffer/ent/procedure"
	"coffer/ent/user"
	"coffer/graph/apperr"
)

// Page is a Relay page request: First with After (and optionally Before), or Last with Before.
// The resolver has already bounded First and Last.
type Page struct {
	First, Last   *int
	After, Before *ent.Cursor
	// WantTotal asks for TotalCount (one COUNT statement).
	WantTotal bool
}

// ProcedureConnection is a page of the clerks' queue.
type ProcedureConnection struct {
	Edges      []*ProcedureEdge
	PageInfo   ent.PageInfo
	TotalCount int
}

// ProcedureEdge is one procedure of a page and its cursor.
type ProcedureEdge struct {
	Node   *ent.Procedure
	Cursor ent.Cursor
}

// QueueFilter restricts the queue; nil fields do not.
type QueueFilter struct {
	State       *procedure.State
	Type        *procedure.Type
	Prioritized *bool
	ScopeCode   *string
}

// QueueLoad says which related rows to load with a page, each in one statement for the whole page.
type QueueLoad struct {
	Person, Users, Files bool
}

// queueKey is a procedure's place in the queue: pending first (rank 0), prioritized first, oldest
// first, then by id. A cursor carries it whole, so a page boundary stays put when procedures are
// added before or after it.
type queueKey struct {
	rank        int // 0 pending, 1 processed
	prioritized bool
	createdAt   time.Time
	id          int
}

func keyOf(pr *ent.Procedure) queueKey {
	rank := 1
	if pr.State == procedure.StatePENDING {
		rank = 0
	}
	return queueKey{rank: rank, prioritized: pr.Prioritized, createdAt: pr.CreatedAt, id: pr.ID}
}

// cursor writes k as an opaque cursor: the id, and "<rank><t|f>:<createdAt>" as its value.
func (k queueKey) cursor() ent.Cursor {
	p := "f"
	if k.prioritized {
		p = "t"
	}
	return ent.Cursor{ID: k.id, Value: itoa(k.rank) + p + ":" + k.createdAt.UTC().Format(time.RFC3339Nano)}
}

func parseQueueCursor(c *ent.Cursor, field string) (*queueKey, error) {
	if c == nil {
		return nil, nil
	}
	bad := apperr.Field(field, "not a cursor of this list")
	v, ok := c.Value.(string)
	if !ok || len(v) < 4 || (v[0] != '0' && v[0] != '1') || (v[1] != 't' && v[1] != 'f') || v[2] != ':' {
		return nil, bad
	}
	at, err := time.Parse(time.RFC3339Nano, v[3:])
	if err != nil {
		return nil, bad
	}
	return &queueKey{rank: int(v[0] - '0'), prioritized: v[1] == 't', createdAt: at, id: c.ID}, nil
}

// beyond matches the procedures strictly after k in the queue order (forward), or strictly
// before it (!forward).
func beyond(k queueKey, forward bool) predicate.Procedure {
	sameRank := procedure.StateEQ(procedure.StatePENDING)
	if k.rank == 1 {
		sameRank = procedure.StateNEQ(procedure.StatePENDING)
	}
	var ors []predicate.Procedure
	// The rank and prioritized parts: rank ascending, prioritized descending (true first).
	if forward && k.rank == 0 {
		ors = append(ors, procedure.StateNEQ(procedure.StatePENDING))
	}
	if !forward && k.rank == 1 {
		ors = append(ors, procedure.StateEQ(procedure.StatePENDING))
	}
	if forward && k.prioritized {
		ors = append(ors, procedure.And(sameRank, procedure.Prioritized(false)))
	}
	if !forward && !k.prioritized {
		ors = append(ors, procedure.And(sameRank, procedure.Prioritized(true)))
	}
	same := procedure.And(sameRank, procedure.Prioritized(k.prioritized))
	if forward {
		ors = append(ors, procedure.And(same, procedure.CreatedAtGT(k.createdAt)),
			procedure.And(same, procedure.CreatedAt(k.createdAt), procedure.IDGT(k.id)))
	} else {
		ors = append(ors, procedure.And(same, procedure.CreatedAtLT(k.createdAt)),
			procedure.And(same, procedure.CreatedAt(k.createdAt), procedure.IDLT(k.id)))
	}
	return procedure.Or(ors...)
}

// queueOrder sorts in queue order, or in its reverse for a backward page.
func queueOrder(forward bool) procedure.OrderOption {
	return func(s *sql.Selector) {
		asc, desc := " ASC", " DESC"
		if !forward {
			asc, desc = desc, asc
		}
		s.OrderExpr(sql.Expr(s.C(procedure.FieldState) + " <> 'PENDING'" + asc))
		s.OrderExpr(sql.Expr(s.C(procedure.FieldPrioritized) + desc))
		s.OrderExpr(sql.Expr(s.C(procedure.FieldCreatedAt) + asc))
		s.OrderExpr(sql.Expr(s.C(procedure.FieldID) + asc))
	}
}

// Queue is the clerks' queue across all people: pending procedures first, prioritized ones first
// among them, then oldest first. A page costs one statement, plus one for the total and one for
// each kind of related row asked for in load, whatever its size.
func (s *Service) Queue(ctx context.Context, f QueueFilter, pg Page, load QueueLoad) (*ProcedureConnection, error) {
	after, err := parseQueueCursor(pg.After, "after")
	if err != nil {
		return nil, err
	}
	before, err := parseQueueCursor(pg.Before, "before")
	if err != nil {
		return nil, err
	}
	var where []predicate.Procedure
	if f.State != nil {
		where = append(where, procedure.StateEQ(*f.State))
	}
	if f.Type != nil {
		where = append(where, procedure.TypeEQ(*f.Type))
	}
	if f.Prioritized != nil {
		where = append(where, procedure.Prioritized(*f.Prioritized))
	}
	if f.ScopeCode != nil {
		where = append(where, procedure.HasPersonWith(person.ScopeCode(strings.TrimSpace(*f.ScopeCode))))
	}
	conn := &ProcedureConnection{}
	if pg.WantTotal {
		if conn.TotalCount, err = s.Client.Procedure.Query().Where(where...).Count(ctx); err != nil {
			return nil, err
		}
	}
	forward := pg.Last == nil || pg.First != nil
	limit := pageLimit(pg)
	q := s.Client.Procedure.Query().Where(where...)
	if after != nil {
		q.Where(beyond(*after, true))
	}
	if before != nil {
		q.Where(beyond(*before, false))
	}
	rows, err := q.Order(queueOrder(forward)).Limit(limit + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	rows, conn.PageInfo = trim(rows, limit, forward, pg)
	if err := s.loadQueue(ctx, rows, load); err != nil {
		return nil, err
	}
	for _, pr := range rows {
		conn.Edges = append(conn.Edges, &ProcedureEdge{Node: pr, Cursor: keyOf(pr).cursor()})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	}
	return conn, nil
}

// pageLimit is the page's size: First, else Last.
func pageLimit(pg Page) int {
	switch {
	case pg.First != nil:
		return *pg.First
	case pg.Last != nil:
		return *pg.Last
	}
	return 0
}

// trim cuts the one extra row fetched to learn whether there is more, puts a backward page back
// in order and says which way there is more.
func trim[T any](rows []T, limit int, forward bool, pg Page) ([]T, ent.PageInfo) {
	var info ent.PageInfo
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if forward {
		info.HasNextPage, info.HasPreviousPage = more, pg.After != nil
	} else {
		slices.Reverse(rows)
		info.HasPreviousPage, info.HasNextPage = more, pg.Before != nil
	}
	return rows, info
}

// loadQueue loads the related rows a page's fields need, one statement per kind.
func (s *Service) loadQueue(ctx context.Context, rows []*ent.Procedure, load QueueLoad) error {
	if len(rows) == 0 {
		return nil
	}
	if load.Person {
		ids := make([]int, len(rows))
		for i, pr := range rows {
			ids[i] = pr.PersonID
		}
		people, err := s.Client.Person.Query().Where(person.IDIn(ids...)).All(ctx)
		if err != nil {
			return err
		}
		byID := make(map[int]*ent.Person, len(people))
		for _, p := range people {
			byID[p.ID] = p
		}
		for _, pr := range rows {
			pr.Edges.Person = byID[pr.PersonID]
		}
	}
	if load.Users {
		if err := s.loadUsers(ctx, rows); err != nil {
			return err
		}
	}
	if load.Files {
		return s.loadFiles(ctx, rows)
	}
	return nil
}

func (s *Service) loadUsers(ctx context.Context, rows []*ent.Procedure) error {
	var ids []int
	for _, pr := range rows {
		for _, id := range []*int{pr.CreatedByID, pr.ProcessedByID} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	users, err := s.Client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int]*ent.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for _, pr := range rows {
		if pr.CreatedByID != nil {
			pr.Edges.CreatedBy = byID[*pr.CreatedByID]
		}
		if pr.ProcessedByID != nil {
			pr.Edges.ProcessedBy = byID[*pr.ProcessedByID]
		}
	}
	return nil
}

// loadFiles loads the files' descriptions (not their content) of a page's procedures; every
// procedure gets a non-nil list, so the resolver knows they were loaded.
func (s *Service) loadFiles(ctx context.Context, rows []*ent.Procedure) error {
	ids := make([]int, len(rows))
	for i, pr := range rows {
		ids[i] = pr.ID
		pr.Edges.Files = []*ent.DocumentFile{}
	}
	files, err := s.Client.DocumentFile.Query().Where(documentfile.ProcedureIDIn(ids...)).
		Select(documentfile.FieldID, documentfile.FieldProcedureID, documentfile.FieldFilename,
			documentfile.FieldContentType, documentfile.FieldSize, documentfile.FieldSha256).
		Order(ent.Asc(documentfile.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int]*ent.Procedure, len(rows))
	for _, pr := range rows {
		byID[pr.ID] = pr
	}
	for _, f := range files {
		if pr := byID[f.ProcedureID]; pr != nil {
			pr.Edges.Files = append(pr.Edges.Files, f)
		}
	}
	return nil
}
