"""比对: reconciling a semester's identifications, awards and payments against the departments'
registries and the register; acting on what it finds."""
