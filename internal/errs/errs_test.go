package errs

import (
	"fmt"
	"testing"
)

// A field is said once, however often an error is rebuilt from its text.
func TestFieldSaidOnce(t *testing.T) {
	e := F(Invalid, "vertical", "x.nc has no vertical axis")
	if e.Error() != "vertical: x.nc has no vertical axis" {
		t.Fatal(e.Error())
	}
	again := &Error{Code: e.Code, Field: e.Field, Message: e.Error()}
	if again.Error() != "vertical: x.nc has no vertical axis" {
		t.Errorf("rebuilt: %q", again.Error())
	}
	w := Wrap(Unreadable, fmt.Errorf("truncated"), "cannot read x.nc")
	if w.Error() != "cannot read x.nc: truncated" || FieldOf(w) != "" {
		t.Errorf("wrapped: %q", w.Error())
	}
}
