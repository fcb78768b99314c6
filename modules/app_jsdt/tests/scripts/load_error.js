function ksr_request_route() {}
undefined_function_at_load_time();
