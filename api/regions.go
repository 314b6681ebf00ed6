package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// RegionSetSummary describes a named region set in GET /v1/regions.
type RegionSetSummary struct {
	Name        string      `json:"name"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Regions     []RegionRef `json:"regions"`
	Links       []Link      `json:"links"`
}

// RegionRef names one region of a set with its bounding box.
type RegionRef struct {
	Ref   string     `json:"ref"`
	Title string     `json:"title,omitempty"`
	BBox  [4]float64 `json:"bbox"`
}

// RegionSetList is the body of GET /v1/regions.
type RegionSetList struct {
	Sets  []RegionSetSummary `json:"sets"`
	Links []Link             `json:"links"`
}

func (h *handler) listRegionSets(w http.ResponseWriter, r *http.Request) {
	out := RegionSetList{Sets: []RegionSetSummary{}, Links: []Link{{Rel: "self", Href: h.u.to("/v1/regions"), Type: "application/json"}}}
	for _, s := range regions.Sets() {
		sum := RegionSetSummary{Name: s.Name, Title: s.Title, Description: s.Description, Regions: []RegionRef{},
			Links: []Link{{Rel: "item", Href: h.u.to("/v1/regions/" + s.Name), Type: "application/geo+json"}}}
		for _, x := range s.Regions {
			sum.Regions = append(sum.Regions, RegionRef{Ref: s.Name + "/" + x.Name, Title: x.Title, BBox: [4]float64{x.Box.West, x.Box.South, x.Box.East, x.Box.North}})
		}
		out.Sets = append(out.Sets, sum)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getRegionSet(w http.ResponseWriter, r *http.Request) {
	s := regions.GetSet(chi.URLParam(r, "set"))
	if s == nil {
		writeProblem(w, r, http.StatusNotFound, errs.NotFound, "", "no region set "+chi.URLParam(r, "set"))
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	w.Write(s.GeoJSON())
}
