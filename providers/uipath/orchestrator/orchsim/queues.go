package orchsim

import (
	"net/http"
	"strings"
	"time"
)

type queueState struct {
	Queue
	id   int64
	refs map[string]bool // references used, for unique queues
}

type processingException struct {
	Reason  string `json:"Reason"`
	Details string `json:"Details"`
	Type    string `json:"Type"`
}

type queueItemDTO struct {
	Context                            string               `json:"@odata.context,omitempty"`
	QueueDefinitionID                  int64                `json:"QueueDefinitionId"`
	OutputData                         *string              `json:"OutputData"`
	AnalyticsData                      *string              `json:"AnalyticsData"`
	Status                             string               `json:"Status"`
	ReviewStatus                       string               `json:"ReviewStatus"`
	ReviewerUserID                     *int64               `json:"ReviewerUserId"`
	Key                                string               `json:"Key"`
	Reference                          string               `json:"Reference"`
	ProcessingExceptionType            *string              `json:"ProcessingExceptionType"`
	ProcessingException                *processingException `json:"ProcessingException"`
	Output                             map[string]any       `json:"Output"`
	DueDate                            *string              `json:"DueDate"`
	RiskSlaDate                        *string              `json:"RiskSlaDate"`
	Priority                           string               `json:"Priority"`
	DeferDate                          *string              `json:"DeferDate"`
	StartProcessing                    *string              `json:"StartProcessing"`
	EndProcessing                      *string              `json:"EndProcessing"`
	SecondsInPreviousAttempts          int                  `json:"SecondsInPreviousAttempts"`
	AncestorID                         *int64               `json:"AncestorId"`
	RetryNumber                        int                  `json:"RetryNumber"`
	SpecificContent                    map[string]any       `json:"SpecificContent"`
	CreationTime                       *string              `json:"CreationTime"`
	Progress                           *string              `json:"Progress"`
	OrganizationUnitID                 int64                `json:"OrganizationUnitId"`
	OrganizationUnitFullyQualifiedName string               `json:"OrganizationUnitFullyQualifiedName"`
	ID                                 int64                `json:"Id"`
}

// addQueueItem is POST /odata/Queues/UiPathODataSvc.AddQueueItem.
func (s *Server) addQueueItem(req *request) {
	f, item, ok := s.folderAndBody(req, "itemData")
	if !ok {
		return
	}
	bad := func(msg string) { writeError(req.w, http.StatusBadRequest, 1000, msg) }
	name, ok := stringField(item, "Name")
	if !ok || strings.TrimSpace(name) == "" {
		bad("itemData.Name (the queue name) is required.")
		return
	}
	priority := "Normal"
	if pv, ok := stringField(item, "Priority"); !ok {
		bad("itemData.Priority must be High, Normal or Low.")
		return
	} else if pv != "" {
		if priority, ok = oneOf(pv, priorities); !ok {
			bad("itemData.Priority must be High, Normal or Low.")
			return
		}
	}
	reference, ok := stringField(item, "Reference")
	if !ok || len(reference) > 128 {
		bad("itemData.Reference must be a string of at most 128 characters.")
		return
	}
	content := map[string]any{}
	if cv, found := field(item, "SpecificContent"); found && cv != nil {
		m, ok := cv.(map[string]any)
		if !ok {
			bad("itemData.SpecificContent must be an object.")
			return
		}
		for k, val := range m {
			if strings.HasSuffix(k, "@odata.type") {
				continue // OData type annotations are accepted and dropped
			}
			if k == "" || strings.ContainsAny(k, ":.,@\"") {
				bad("SpecificContent property names must not be empty or contain : . , @ \" ('" + k + "').")
				return
			}
			switch val.(type) {
			case map[string]any, []any:
				bad("Property values must be simple (like numbers or text).")
				return
			}
			content[k] = val
		}
	}
	var dates [2]time.Time
	for i, key := range []string{"DeferDate", "DueDate"} {
		dv, ok := stringField(item, key)
		if !ok {
			bad("itemData." + key + " must be an ISO-8601 date.")
			return
		}
		if dv != "" {
			t, err := time.Parse(time.RFC3339Nano, dv)
			if err != nil {
				bad("itemData." + key + " must be an ISO-8601 date.")
				return
			}
			dates[i] = t
		}
	}

	s.mu.Lock()
	q := f.queues[strings.ToLower(name)]
	status, code, msg := 0, 0, ""
	switch {
	case q == nil:
		status, code, msg = http.StatusNotFound, 1002, name+" does not exist."
	case q.UniqueReference && reference == "":
		status, code, msg = http.StatusBadRequest, 1000, "Reference is required for queues with unique references."
	case q.UniqueReference && q.refs[reference]:
		status, code, msg = http.StatusConflict, 1016, "Error creating Transaction. Duplicate Reference."
	}
	var d queueItemDTO
	if status == 0 {
		if q.UniqueReference {
			q.refs[reference] = true
		}
		s.nextItem++
		d = queueItemDTO{Context: req.base + "/odata/$metadata#QueueItems/$entity", QueueDefinitionID: q.id,
			Status: "New", ReviewStatus: "None", Key: newUUID(), Reference: reference,
			DueDate: timeString(dates[1]), Priority: priority, DeferDate: timeString(dates[0]),
			SpecificContent: content, CreationTime: timeString(s.clock.Now()),
			OrganizationUnitID: f.id, OrganizationUnitFullyQualifiedName: f.path, ID: s.nextItem}
		s.items[d.ID] = &itemState{dto: d, queue: q, created: s.clock.Now()}
	}
	it := s.items[d.ID]
	s.mu.Unlock()
	if status != 0 {
		if code == 1016 {
			s.counters.Inc("addQueueItem.duplicate")
		}
		writeError(req.w, status, code, msg)
		return
	}
	s.watchItem(it)
	writeJSON(req.w, http.StatusCreated, d)
}
