"""Who holds each patrol and incident at every moment, and every handover between holders."""
