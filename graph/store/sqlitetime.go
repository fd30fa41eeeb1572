package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"

	entmigrate "coffer/ent/migrate"
)

// SQLite has no time type: a time is text, and a WHERE or ORDER BY on it compares the text. So
// every time is written as UTC in one layout, sqliteTimeLayout (the driver's "sqlite" format;
// sqliteDSNTimes below), whose text order is the order of the instants: the same zone everywhere,
// and a shorter fraction ends with "+" or "." where a longer one has a digit, both below digits.
// Query arguments pass through the same conversion, so "booked_at <= ?" compares instants whatever
// offset the client wrote. PostgreSQL stores timestamptz and compares instants natively.
const (
	sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"
	sqliteDSNTimes   = "&_time_format=sqlite&_timezone=UTC"
	// sqliteUTCVersion is the PRAGMA user_version from which a SQLite store holds every time in
	// sqliteTimeLayout and UTC; a store below it is rewritten once (normalizeSQLiteTimes).
	sqliteUTCVersion = 1
)

// normalizeSQLiteTimes rewrites, once per store, the times that earlier versions wrote in the
// driver's default layout (Go's Time.String: the writer's zone, a monotonic-clock suffix) or with
// a client's offset, as UTC in sqliteTimeLayout. It runs in one transaction with the version mark,
// so an interrupted run is redone whole at the next start.
func normalizeSQLiteTimes(ctx context.Context, db *DB) error {
	if db.Dialect != dialect.SQLite {
		return nil
	}
	var version int
	if err := db.SQL.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("sqlite times: %w", err)
	}
	if version >= sqliteUTCVersion {
		return nil
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite times: %w", err)
	}
	defer tx.Rollback()
	for _, t := range entmigrate.Tables {
		for _, c := range t.Columns {
			if c.Type != field.TypeTime {
				continue
			}
			if err := normalizeColumn(ctx, tx, t.Name, c.Name); err != nil {
				return fmt.Errorf("sqlite times: %s.%s: %w", t.Name, c.Name, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", sqliteUTCVersion)); err != nil {
		return fmt.Errorf("sqlite times: %w", err)
	}
	return tx.Commit()
}

// normalizeColumn rewrites the values of one time column that are not yet UTC in sqliteTimeLayout.
func normalizeColumn(ctx context.Context, tx *sql.Tx, table, column string) error {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(
		"SELECT rowid, CAST(`%s` AS TEXT) FROM `%s` WHERE `%s` IS NOT NULL AND `%s` NOT LIKE '%%+00:00'",
		column, table, column, column))
	if err != nil {
		return err
	}
	type change struct {
		rowID int64
		text  string
	}
	var changes []change
	for rows.Next() {
		var ch change
		var stored string
		if err := rows.Scan(&ch.rowID, &stored); err != nil {
			rows.Close()
			return err
		}
		t, err := parseStoredTime(stored)
		if err != nil {
			rows.Close()
			return fmt.Errorf("row %d: %w", ch.rowID, err)
		}
		ch.text = t.UTC().Format(sqliteTimeLayout)
		if ch.text != stored {
			changes = append(changes, ch)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, ch := range changes {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE `%s` SET `%s` = ? WHERE rowid = ?", table, column), ch.text, ch.rowID); err != nil {
			return err
		}
	}
	return nil
}

// storedTimeLayouts are the layouts the SQLite driver reads (modernc.org/sqlite's parseTimeFormats).
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseStoredTime reads a time as the driver wrote or reads it: Go's Time.String (with or without a
// monotonic-clock suffix " m=+1.5"), or one of storedTimeLayouts, a trailing "Z" meaning UTC.
func parseStoredTime(s string) (time.Time, error) {
	trimmed := s
	if i := strings.Index(trimmed, " m="); i >= 0 {
		trimmed = trimmed[:i]
	}
	trimmed = strings.TrimSpace(trimmed)
	// Time.String is "date time offset zone-name"; the offset says it all, and the name may be
	// one time.Parse cannot read (a fixed zone's is its offset again: "+0500 +0500").
	if f := strings.Fields(trimmed); len(f) == 4 {
		if t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", strings.Join(f[:3], " ")); err == nil {
			return t, nil
		}
	}
	trimmed = strings.TrimSuffix(trimmed, "Z")
	for _, layout := range storedTimeLayouts {
		if t, err := time.Parse(layout, trimmed); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}
