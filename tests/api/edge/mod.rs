mod access;
mod bodies;
mod hostile_input;
mod methods;
mod reply;
mod request_log;
