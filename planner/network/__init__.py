"""The networks of a site: the training fabric (counts and graph), the floor plan and cable
lengths, the access and out-of-band networks."""
