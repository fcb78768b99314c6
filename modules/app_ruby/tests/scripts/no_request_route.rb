def something_else
end
