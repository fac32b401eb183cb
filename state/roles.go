package state

// Socket roles as exported names: whether the process is the client or the server side.
const (
	RoleNone   = roleNone
	RoleClient = roleClient
	RoleServer = roleServer
)
