package census

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"coffer/ent"
	"coffer/ent/personversion"
	"coffer/ent/predicate"
	"coffer/ent/procedure"
	"coffer/graph/apperr"
)

// Version is one version of a person's history: the person as they were from At until the next.
type Version struct {
	Version   int
	At        time.Time
	Person    *ent.Person
	Procedure *ent.Procedure
}

// VersionConnection is a page of a person's history, oldest first.
type VersionConnection struct {
	Edges      []*VersionEdge
	PageInfo   ent.PageInfo
	TotalCount int
}

// VersionEdge is one version of a page and its cursor (the version's row id and its number).
type VersionEdge struct {
	Node   *Version
	Cursor ent.Cursor
}

func versionCursor(c *ent.Cursor, field string) (*int, error) {
	if c == nil {
		return nil, nil
	}
	var n int64
	switch v := c.Value.(type) { // msgpack decodes a number into the smallest type that holds it
	case int8:
		n = int64(v)
	case int16:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case uint8:
		n = int64(v)
	case uint16:
		n = int64(v)
	case uint32:
		n = int64(v)
	}
	if n > 0 && n < 1<<31 {
		v := int(n)
		return &v, nil
	}
	return nil, apperr.Field(field, "not a cursor of this list")
}

// Versions pages a person's history, oldest first, each version as the person then was. A page
// costs one statement, one more for the total and one for the procedures (withProcedures),
// whatever its size.
func (s *Service) Versions(ctx context.Context, personID int, pg Page, withProcedures bool) (*VersionConnection, error) {
	after, err := versionCursor(pg.After, "after")
	if err != nil {
		return nil, err
	}
	before, err := versionCursor(pg.Before, "before")
	if err != nil {
		return nil, err
	}
	where := []predicate.PersonVersion{personversion.PersonID(personID)}
	conn := &VersionConnection{}
	if pg.WantTotal {
		if conn.TotalCount, err = s.Client.PersonVersion.Query().Where(where...).Count(ctx); err != nil {
			return nil, err
		}
	}
	if after != nil {
		where = append(where, personversion.VersionGT(*after))
	}
	if before != nil {
		where = append(where, personversion.VersionLT(*before))
	}
	forward := pg.Last == nil || pg.First != nil
	order := ent.Asc(personversion.FieldVersion)
	if !forward {
		order = ent.Desc(personversion.FieldVersion)
	}
	limit := pageLimit(pg)
	rows, err := s.Client.PersonVersion.Query().Where(where...).Order(order).Limit(limit + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	rows, conn.PageInfo = trim(rows, limit, forward, pg)
	procs, err := s.proceduresOf(ctx, rows, withProcedures)
	if err != nil {
		return nil, err
	}
	for _, v := range rows {
		var p ent.Person
		if err := json.Unmarshal(v.Snapshot, &p); err != nil || p.ID != personID {
			return nil, fmt.Errorf("census: snapshot of version %d: %v", v.ID, err)
		}
		node := &Version{Version: v.Version, At: v.ValidFrom, Person: &p}
		if v.ProcedureID != nil {
			node.Procedure = procs[*v.ProcedureID]
		}
		conn.Edges = append(conn.Edges, &VersionEdge{Node: node, Cursor: ent.Cursor{ID: v.ID, Value: int64(v.Version)}})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	}
	return conn, nil
}

// proceduresOf loads the procedures that made a page's versions, in one statement.
func (s *Service) proceduresOf(ctx context.Context, rows []*ent.PersonVersion, load bool) (map[int]*ent.Procedure, error) {
	var ids []int
	for _, v := range rows {
		if v.ProcedureID != nil {
			ids = append(ids, *v.ProcedureID)
		}
	}
	if !load || len(ids) == 0 {
		return nil, nil
	}
	prs, err := s.Client.Procedure.Query().Where(procedure.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*ent.Procedure, len(prs))
	for _, pr := range prs {
		out[pr.ID] = pr
	}
	return out, nil
}
