package pgsql

import "testing"

func TestRebind(t *testing.T) {
	for q, want := range map[string]string{
		`SELECT a FROM t WHERE b = ? AND c IN (?, ?)`:       `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`,
		`SELECT '?' , "a?b", x FROM t WHERE y = ?`:          `SELECT '?' , "a?b", x FROM t WHERE y = $1`,
		"SELECT 1 -- what?\nFROM t WHERE y = ?":             "SELECT 1 -- what?\nFROM t WHERE y = $1",
		`SELECT * FROM river_job WHERE id = $1 AND a ? 'k'`: `SELECT * FROM river_job WHERE id = $1 AND a ? 'k'`,
		`SELECT 'unterminated ?`:                            `SELECT 'unterminated ?`,
		`SELECT 1`:                                          `SELECT 1`,
	} {
		if got := Rebind(q); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestIsURLAndRedact(t *testing.T) {
	if !IsURL("postgres://u@h/db") || !IsURL("postgresql://h/db") || IsURL("/var/state") || IsURL("") {
		t.Fatal("IsURL")
	}
	if got := Redact("postgres://u:secret@db.example:5433/jobs"); got != "postgres u@db.example:5433/jobs" {
		t.Fatalf("Redact = %q", got)
	}
}
