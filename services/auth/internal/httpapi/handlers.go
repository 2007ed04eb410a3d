package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/common/httpx"
	"github.com/ticketing/common/session"
	"github.com/ticketing/services/auth/internal/user"
)

// Handlers holds what the routes call.
type Handlers struct {
	users    *user.Service
	sessions *session.Manager
}

// NewHandlers wires the handlers to their dependencies.
func NewHandlers(users *user.Service, sessions *session.Manager) *Handlers {
	return &Handlers{users: users, sessions: sessions}
}

type signUpRequest struct {
	Email    httpx.TrimmedString `json:"email" binding:"required,email,max=254" msg:"Email must be valid"`
	Password httpx.TrimmedString `json:"password" binding:"required,min=4,max=20" msg:"Password must be between 4 and 20 characters"`
}

type signInRequest struct {
	Email    httpx.TrimmedString `json:"email" binding:"required,email,max=254" msg:"Email must be valid"`
	Password httpx.TrimmedString `json:"password" binding:"required" msg:"You must supply a password"`
}

type userResponse struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// CurrentUser answers with the session's claims, or null; a bad cookie is just "signed out".
func (h *Handlers) CurrentUser(c *gin.Context) {
	claims, ok := httpx.CurrentUser(c)
	if !ok {
		c.JSON(http.StatusOK, gin.H{"currentUser": nil})
		return
	}
	c.JSON(http.StatusOK, gin.H{"currentUser": claims})
}

func (h *Handlers) SignUp(c *gin.Context) {
	var req signUpRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	u, err := h.users.SignUp(c, req.Email.String(), req.Password.String())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	h.startSession(c, http.StatusCreated, u)
}

func (h *Handlers) SignIn(c *gin.Context) {
	var req signInRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	u, err := h.users.SignIn(c, req.Email.String(), req.Password.String(), c.ClientIP())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	h.startSession(c, http.StatusOK, u)
}

func (h *Handlers) SignOut(c *gin.Context) {
	h.sessions.ClearCookie(c.Writer, c.Request)
	c.JSON(http.StatusOK, gin.H{})
}

func (h *Handlers) startSession(c *gin.Context, status int, u user.User) {
	token, err := h.sessions.Issue(u.ID, u.Email)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	h.sessions.SetCookie(c.Writer, c.Request, token)
	c.JSON(status, userResponse{ID: u.ID, Email: u.Email})
}
