function something_else() {}
